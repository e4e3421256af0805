/**
 * Reading PyTorch checkpoints (`pytorch_model.bin`, `torch.save` of a state dict) without PyTorch and without
 * running any code from the file; the zip reader and the restricted unpickler underneath stay internal.
 */
export * from './torch-checkpoint.js';
export * from './model-weights.js';
