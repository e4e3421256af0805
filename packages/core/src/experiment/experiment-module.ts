import { ContainerModule } from 'inversify';
import { CliCommand, ResultsSink } from '@xlt/plugin-api';
import { csvSink } from '../report/csv-sink.js';
import { htmlReportSink } from '../report/html-report-sink.js';
import { jsonSink } from '../report/json-sink.js';
import { evaluateCommand, runCommand, trainCommand } from './commands.js';
import { planCommand, submitCommand } from './scale-out-commands.js';

/**
 * Binds the experiment's CLI commands (`run`, `train`, `evaluate`, `plan`, `submit`) and the `json`, `csv` and `html-report` sinks;
 * `quickstart` is bound by `quickstartModule`, which `coreModule` also loads.
 */
export const experimentModule = new ContainerModule(({ bind }) => {
  bind(CliCommand).toConstantValue(runCommand());
  bind(CliCommand).toConstantValue(trainCommand());
  bind(CliCommand).toConstantValue(evaluateCommand());
  bind(CliCommand).toConstantValue(planCommand());
  bind(CliCommand).toConstantValue(submitCommand());
  bind(ResultsSink).toConstantValue(jsonSink);
  bind(ResultsSink).toConstantValue(csvSink);
  bind(ResultsSink).toConstantValue(htmlReportSink);
});
