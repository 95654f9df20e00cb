// Every command of `pullmail`, grouped as the main help shows them.
import type { Command } from '../command.ts';
import { configCommands } from './config.ts';
import { inboxCommands } from './inbox.ts';
import { messageCommands } from './messages.ts';
import { requestCommands } from './requests.ts';
import { ruleCommands } from './rules.ts';
import { settingsCommands } from './settings.ts';
import { tokenCommands } from './tokens.ts';

export interface CommandSection {
  title: string;
  commands: Command[];
}

export function commandSections(): CommandSection[] {
  return [
    { title: 'sending', commands: messageCommands },
    { title: 'receiving', commands: [...inboxCommands, ...requestCommands] },
    { title: 'who may reach you', commands: [...ruleCommands, ...settingsCommands, ...tokenCommands] },
    { title: 'setup', commands: configCommands },
  ];
}
