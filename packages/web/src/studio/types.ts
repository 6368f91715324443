/**
 * The studio's data as the api defines it: derived from the router's types, so a change of a procedure's schema
 * shows up here as a type error instead of a runtime surprise.
 */
import type { RouterInputs, RouterOutputs } from '@dawg/api';

export type ProjectState = RouterOutputs['project']['get'];
export type ProjectInfo = ProjectState['project'];
export type Lane = ProjectState['lanes'][number];
export type Clip = ProjectState['clips'][number];
export type ArrangementOp = RouterInputs['arrangement']['applyOps']['ops'][number];
export type ProjectSummary = RouterOutputs['project']['list'][number];
export type Track = RouterOutputs['track']['list']['items'][number];
export type TrackUrls = RouterOutputs['track']['urls'];
export type Generation = RouterOutputs['generation']['get'];
