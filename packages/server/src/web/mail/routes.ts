// The webmail under /mail (docs/web.md): sign-in and sign-out open to anyone, every other screen
// behind the session. Each screen module parses the request, calls one use case and renders.
import type { Hono } from 'hono';
import type { AppContext } from '../../context.ts';
import { webArea } from '../app.ts';
import { composeRoutes } from './compose.ts';
import { consentTokenRoutes } from './consent-tokens.ts';
import { folderRoutes } from './folders.ts';
import { messageRoutes } from './message.ts';
import { requestRoutes } from './requests.ts';
import { ruleRoutes } from './rules.ts';
import { sentRoutes } from './sent.ts';
import { settingsRoutes } from './settings.ts';
import { MAIL, requireMailbox, SIGN_IN, type MailEnv } from './frame.ts';
import { signInRoutes } from './sign-in.ts';

export function mailRoutes(ctx: AppContext): Hono<MailEnv> {
  const app = webArea(ctx, { kind: 'user', home: `${MAIL}/`, anonymousForms: [SIGN_IN] }) as unknown as Hono<MailEnv>;
  signInRoutes(app, ctx);
  app.use('*', requireMailbox());
  folderRoutes(app, ctx);
  messageRoutes(app, ctx);
  composeRoutes(app, ctx);
  requestRoutes(app, ctx);
  sentRoutes(app, ctx);
  ruleRoutes(app, ctx);
  consentTokenRoutes(app, ctx);
  settingsRoutes(app, ctx);
  return app;
}
