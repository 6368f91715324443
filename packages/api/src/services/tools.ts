/**
 * The registry of functions the AI producer and the voice assistant may call (seed "functions_cached"). Tool
 * definitions are added here by the features that own them; `/api/voice/health` reports how many exist.
 */
export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the arguments, as the model providers expect it. */
  parameters: Record<string, unknown>;
}

export const toolRegistry: ToolDefinition[] = [];

export function toolRegistrySize(): number {
  return toolRegistry.length;
}
