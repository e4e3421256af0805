/**
 * Reading PyTorch checkpoints (`pytorch_model.bin`, `torch.save` of a state dict) without PyTorch and without
 * running any code from the file; the zip reader and the restricted unpickler underneath stay internal.
 */
export {
  PYTORCH_WEIGHTS_FILE,
  PYTORCH_INDEX_FILE,
  openTorchCheckpoint,
  openTorchSharded,
  type TorchTensor,
} from './torch-checkpoint.js';
export { MODEL_WEIGHT_FILES, openModelWeights } from './model-weights.js';
