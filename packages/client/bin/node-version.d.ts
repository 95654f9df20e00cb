// Types for node-version.js (plain JavaScript so that an old Node can run it).
export declare const MINIMUM_NODE: string;
export declare function nodeVersionProblem(version: string): string | undefined;
export declare function requireNode(): void;
