import { ConfigError, loadAllConfigs } from "./modules/config";
import { App } from "./modules/core";
import { addEnvironment } from "./stacks";

// Synthesizes the state-bootstrap and lake stacks of every environment in config/ into cdktf.out/.
try {
  const app = new App();
  for (const config of Object.values(loadAllConfigs())) addEnvironment(app, config);
  app.synth();
} catch (e) {
  // A bad config is the user's to fix: show the message naming file, field and rule, not a stack trace.
  if (!(e instanceof ConfigError)) throw e;
  console.error(e.message);
  process.exit(1);
}
