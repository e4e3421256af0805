import { ContainerModule } from 'inversify';
import { tfjsBackends } from '../backends/tfjs-backends.js';
import { bertProvider } from '../encoders/bert-provider.js';
import { xlmRobertaProvider } from '../encoders/xlm-roberta-provider.js';
import { TrainingBackend, CliCommand, EncoderProvider } from '@xlt/plugin-api';
import { encodeCommand } from './encode-command.js';

/** Encoders (`bert`, `xlm-roberta`), the TF.js backends and the `xlt encode` command; loaded by `coreModule`. */
export const modelModule: ContainerModule = new ContainerModule(({ bind }) => {
  bind(EncoderProvider).toConstantValue(bertProvider);
  bind(EncoderProvider).toConstantValue(xlmRobertaProvider);
  for (const backend of tfjsBackends) bind(TrainingBackend).toConstantValue(backend);
  bind(CliCommand).toConstantValue(encodeCommand);
});
