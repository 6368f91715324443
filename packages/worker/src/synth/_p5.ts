import { renderSong } from './render';
import { BENCH_PROMPTS } from './bench';
for (let r = 0; r < 2; r++) for (const p of BENCH_PROMPTS) renderSong({ prompt: p, durationSec: 30, seed: 100 + r });
