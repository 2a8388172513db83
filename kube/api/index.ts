// The Kubernetes objects scw-karpenter reads and writes: constants, schemas,
// conditions, provider IDs and label requirements.
export * from './constants.ts';
export * from './schemas.ts';
export * from './core.ts';
export * from './conditions.ts';
export * from './duration.ts';
export * from './provider-id.ts';
export * from './requirements.ts';
export * from './crds.ts';
export * from './examples.ts';
