export declare const SYSTEM_PATHS: readonly string[];
export declare const NAMES: readonly string[];
export declare const HOW_TO_GET_ONE: string;

export interface ChromiumFacts {
  env: Record<string, string | undefined>;
  isExecutable: (path: string) => boolean;
  isRoot: boolean;
}

export type ChromiumDecision =
  | { action: 'use'; path: string; source: 'CHROMIUM_PATH' | 'system' | 'PATH' }
  | { action: 'install' }
  | { action: 'fail'; message: string };

export declare function isExecutableFile(path: string): boolean;
export declare function decideChromium(facts: ChromiumFacts): ChromiumDecision;
export declare function currentFacts(env?: Record<string, string | undefined>): ChromiumFacts;
/** The Chromium to launch (never installs one); throws a one-line Error saying how to get one. */
export declare function findChromium(env?: Record<string, string | undefined>): string;
