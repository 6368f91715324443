import { describe, expect, it } from 'vitest';
import { initialScripts, staticImports } from './web-initial-js';

describe('initialScripts', () => {
  it('finds module scripts and modulepreload links, not stylesheets, classic scripts or duplicates', () => {
    const html = `<!doctype html><html><head>
      <script type="module" crossorigin src="/assets/index-Cfn6rJKY.js"></script>
      <link rel="modulepreload" crossorigin href="/assets/vendor-Bi6IU8sb.js">
      <link rel='modulepreload' href='/assets/vendor-Bi6IU8sb.js'>
      <link rel="stylesheet" crossorigin href="/assets/index-JLWmCwrY.css">
      <link rel="preload" href="/assets/font.woff2">
      <script src="/legacy.js"></script>
    </head></html>`;
    expect(initialScripts(html)).toEqual(['/assets/index-Cfn6rJKY.js', '/assets/vendor-Bi6IU8sb.js']);
  });
});

describe('staticImports', () => {
  it('keeps static imports and re-exports, skips dynamic import()', () => {
    const code =
      'import{a as b,c}from"./vendor-Bi6IU8sb.js";import"./rolldown-runtime-XKyaHtl9.js";' +
      'export{x}from"../other-abcdefgh.js";const p=()=>import("./studio-page-38uhTN__.js");';
    expect(staticImports(code)).toEqual([
      './vendor-Bi6IU8sb.js',
      './rolldown-runtime-XKyaHtl9.js',
      '../other-abcdefgh.js',
    ]);
  });
});
