/**
 * The part of the vitest plugin's "cloudflare:test" module these tests use, typed for the root tsconfig
 * (Node and DOM types; the plugin's own declarations need the Workers types instead).
 */
declare module "cloudflare:test" {
  interface D1PreparedStatement {
    bind(...values: unknown[]): D1PreparedStatement;
    all<T>(): Promise<{ results: T[] }>;
    first<T>(): Promise<T | null>;
  }
  interface D1Database {
    prepare(query: string): D1PreparedStatement;
  }
  export interface D1Migration {
    name: string;
    queries: string[];
  }
  interface ExecutionContext {
    waitUntil(promise: Promise<unknown>): void;
    passThroughOnException(): void;
  }
  interface MessageBatch {
    readonly queue: string;
    readonly messages: readonly unknown[];
    ackAll(): void;
    retryAll(): void;
  }
  export const env: {
    DB: D1Database;
    MAIL_SECRET: string;
    MAIL_LIST: string;
    TEST_MIGRATIONS: D1Migration[];
    TEST_MBOX: string;
    TEST_FACTS: string;
    TEST_JOB_FACTS: string;
    TEST_TS_CORE_WASM: string;
    TEST_TS_C_WASM: string;
    TEST_PKCS8_KEY: string;
  };
  export const SELF: { fetch(input: string, init?: RequestInit): Promise<Response> };
  export function applyD1Migrations(db: D1Database, migrations: D1Migration[]): Promise<void>;
  export function createExecutionContext(): ExecutionContext;
  export function waitOnExecutionContext(ctx: ExecutionContext): Promise<void>;
  export function createMessageBatch(
    queue: string,
    messages: Array<{ id: string; timestamp: Date; attempts: number; body: unknown }>,
  ): MessageBatch;
}
