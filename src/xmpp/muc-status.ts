// XEP-0045 status codes, decoded once: what a room's presence or message code means for us.

/** How an occupant's unavailable presence ends their stay. */
export type LeaveKind = 'left' | 'nick-change' | 'kicked' | 'banned' | 'removed';

export function leaveKind(codes: readonly string[]): LeaveKind {
  if (codes.includes('303')) return 'nick-change';
  if (codes.includes('301')) return 'banned';
  if (codes.includes('307')) return 'kicked';
  // 321: affiliation change in a members-only room; 322: the room became members-only.
  if (codes.includes('321') || codes.includes('322')) return 'removed';
  return 'left';
}

/** 104 (configuration changed) and 172–174 (logging / anonymity changed): re-read the features. */
export function roomConfigChanged(codes: readonly string[]): boolean {
  return codes.some((c) => c === '104' || c === '172' || c === '173' || c === '174');
}

/** 201: our join created the room (it stays locked until configured). */
export function roomCreated(codes: readonly string[]): boolean {
  return codes.includes('201');
}
