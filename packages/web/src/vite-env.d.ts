/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Origin of the api (e.g. https://api.dawg-ai.com); empty means the page's own origin (dev proxy, rewrites). */
  readonly VITE_API_URL?: string;
  /** Sentry DSN of the web app; unset = no error reporting (the SDK is not even loaded). */
  readonly VITE_SENTRY_DSN?: string;
  /** An identifier of this build (e.g. the commit), shown as `<html data-build>`. */
  readonly VITE_APP_BUILD?: string;
  /** `true`: offer "Try the studio" (demo mode; the api must run DEMO_MODE=true). */
  readonly VITE_DEMO_MODE?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
