// The family, mutual-aid and account sections of the phone page, rendered when their tab opens.
export const sections = {};
