/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Origin of the api (e.g. https://api.dawg-ai.com); empty means the page's own origin (dev proxy, rewrites). */
  readonly VITE_API_URL?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
