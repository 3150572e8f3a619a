// Money on every page: yuan on screen, integer fen on the wire.

/** Fen (integer) as yuan with two decimals: 12345 → "123.45". */
export function yuan(fen) {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** Yuan as typed ("12", "12.3", "12.34") to integer fen, or null when it is not an amount. */
export function fen(text) {
  const m = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] || "").padEnd(2, "0"));
}
