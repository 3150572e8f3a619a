// The roster's and the family's codes as people read them (the API speaks codes: docs/contract.md).
// One place for every page: the till shows a patient's 险种 and who presented the code, the phone
// page a member's relation. An unknown code is shown as it came, never hidden.

/** insurance_type (server/roster/rules.py INSURANCE_TYPES). */
export const INSURANCE_TYPES = { employee: "职工医保（在职）", retiree: "职工医保（退休）", resident: "城乡居民医保" };

/** relation (server/family/rules.py RELATIONS): what the member is to the user. */
export const RELATIONS = { spouse: "配偶", parent: "父母", child: "子女", grandparent: "祖父母", grandchild: "孙子女", sibling: "兄弟姐妹" };

/** The label of a code in one of the tables above, or the code itself when it has none. */
export function label(table, code) {
  return Object.hasOwn(table, code) ? table[code] : code;
}
