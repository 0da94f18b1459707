// Apart from limits.ts: only the host reads close codes, and limits.ts is in the page's first load.
/** Close codes of protocol section 9. */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY: 1008,
  TOO_BIG: 1009,
  TRY_AGAIN_LATER: 1013,
  SESSION_REVOKED: 4001,
  AUTH_TIMEOUT: 4408,
} as const;
