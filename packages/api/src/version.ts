/** The api's release version (package.json), reported by `/`, `/health` and `system.version`. */
import pkg from '../package.json' with { type: 'json' };

export const SERVICE_NAME = 'dawg-ai-api';
export const VERSION: string = pkg.version;
