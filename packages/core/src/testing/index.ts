/**
 * `@xlt/core/testing`: the task conformance suite, which builds heads on core's encoder configs and so needs the
 * runtime (the other suites and helpers are in `@xlt/plugin-api/testing`). It registers its tests through the
 * runner functions it is given (`TestApi`); nothing here imports a test runner.
 * @packageDocumentation
 */
export {
  tinyEncoderConfig,
  describeTaskConformance,
  type InvalidTaskFile,
  type TaskConformanceFixture,
} from './task-conformance.js';
