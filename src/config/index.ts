export {
  type ConnectOptions,
  connect,
  type StartedProviders,
  startProviders,
} from './connect.ts';
export { CONFIG_FILES, type LoadConfigOptions, loadConfig } from './load.ts';
export {
  loadProvider,
  type ProviderLoader,
  providerNames,
  registerProvider,
} from './registry.ts';
export {
  PARTS,
  parseConfig,
  type SwitchyardConfig,
  type SwitchyardConfigInput,
} from './schema.ts';
