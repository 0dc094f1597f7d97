// Bot API emulator for newsdesk's Telegram end-to-end tests.
//
// telegram-test-api speaks enough of the Bot API for a simulated user to chat with a bot, but
// python-telegram-bot needs a few things it lacks; the routes below fill those gaps and are
// registered ahead of the package's own:
//   - getMe answers without `is_bot`, which the Bot API always sends;
//   - sendMessage answers with dates in milliseconds and echoes request fields as message fields;
//   - getUpdates answers at once instead of long polling;
//   - sendChatAction, setMyCommands, answerInlineQuery and getWebhookInfo answer 500, and inline
//     queries cannot be sent at all;
//   - webhook calls lack the secret token the bot registered, so the bot must refuse them;
//   - button presses (callback queries) lack chat_instance, and answerCallbackQuery answers null
//     and keeps nothing a test could read.
// Needs Node.js 18 or later (global fetch).
// Usage: node server.js  -> prints {"url": "http://127.0.0.1:<port>"} once it is listening on a
// free port of 127.0.0.1, and exits on SIGTERM, SIGINT or when its stdin closes.
'use strict';

const { routes } = require('telegram-test-api/lib/routes/index');
const TelegramServer = require('telegram-test-api');

const BOT = {
  id: 666,
  is_bot: true,
  first_name: 'Newsdesk Test',
  username: 'NewsdeskTestBot',
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: true,
};
const USER_EVENTS = ['AddedUserMessage', 'AddedUserCommand', 'AddedUserCallbackQuery', 'AddedInlineQuery'];
const MAX_POLL_SECONDS = 30;

const seconds = (millis) => Math.floor(millis / 1000);

function parseJson(value) {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

function waitForUserUpdate(server, millis) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      USER_EVENTS.forEach((event) => server.off(event, done));
      resolve();
    };
    const timer = setTimeout(done, millis);
    USER_EVENTS.forEach((event) => server.on(event, done));
  });
}

function compatibilityRoutes(app, server) {
  const bot = (method, handler) => app.post(`/bot:token/${method}`, handler);

  bot('getMe', (_req, res) => res.json({ ok: true, result: BOT }));

  bot('sendMessage', (req, res) => {
    const chatId = Number(req.body.chat_id);
    const stored = server.addBotMessage(req.body, req.params.token);
    res.json({
      ok: true,
      result: {
        message_id: stored.message_id,
        date: seconds(stored.date),
        chat: { id: chatId, type: chatId < 0 ? 'group' : 'private' },
        from: BOT,
        text: req.body.text,
      },
    });
  });

  bot('getUpdates', async (req, res) => {
    let closed = false;
    res.on('close', () => { closed = true; }); // the poller hung up (req's 'close' only means its body was read)
    const deadline = Date.now() + Math.min(Number(req.body.timeout) || 0, MAX_POLL_SECONDS) * 1000;
    // The package marks updates read as it hands them out, so never take any for a poller that left.
    while (!closed && Date.now() < deadline && !server.storage.userMessages.some(
      (update) => update.botToken === req.params.token && !update.isRead,
    )) {
      await waitForUserUpdate(server, deadline - Date.now());
    }
    if (closed) return;
    res.json({ ok: true, result: server.getUpdates(req.params.token) });
  });

  bot('setWebhook', (req, res) => {
    server.setWebhook(req.body, req.params.token);
    res.json({ ok: true, result: true });
  });

  bot('getWebhookInfo', (req, res) => {
    const webhook = server.webhooks[req.params.token];
    res.json({ ok: true, result: { url: webhook ? webhook.url : '', has_custom_certificate: false, pending_update_count: 0 } });
  });

  bot('sendChatAction', (_req, res) => res.json({ ok: true, result: true }));
  bot('setMyCommands', (_req, res) => res.json({ ok: true, result: true }));

  server.inlineAnswers = [];
  bot('answerInlineQuery', (req, res) => {
    server.inlineAnswers.push({
      token: req.params.token,
      inline_query_id: String(req.body.inline_query_id),
      results: parseJson(req.body.results || '[]'),
      button: req.body.button ? parseJson(req.body.button) : null,
    });
    res.json({ ok: true, result: true });
  });

  server.callbackAnswers = [];
  bot('answerCallbackQuery', (req, res) => {
    server.callbackAnswers.push({
      token: req.params.token,
      callback_query_id: String(req.body.callback_query_id),
      text: req.body.text || null,
      show_alert: String(req.body.show_alert) === 'true',
    });
    res.json({ ok: true, result: true });
  });

  app.post('/getCallbackAnswers', (req, res) => {
    res.json({ ok: true, result: server.callbackAnswers.filter((answer) => answer.token === req.body.token) });
  });

  // Client side: a simulated user types "@bot query", then reads what the bot offered.
  app.post('/sendInlineQuery', async (req, res) => {
    const { botToken, from, query } = req.body;
    const update = { ...server.getCommonFields(botToken) };
    update.inlineQuery = { id: String(update.updateId), from, query, offset: '', chat_type: 'private' };
    await server.addUserUpdate(update);
    server.emit('AddedInlineQuery');
    res.json({ ok: true, result: { inline_query_id: update.inlineQuery.id } });
  });

  app.post('/getInlineAnswers', (req, res) => {
    const answers = server.inlineAnswers.filter((answer) => answer.token === req.body.token
      && (!req.body.inlineQueryId || answer.inline_query_id === String(req.body.inlineQueryId)));
    res.json({ ok: true, result: answers });
  });
}

const formatUpdate = TelegramServer.formatUpdate;
TelegramServer.formatUpdate = (update) => {
  if ('inlineQuery' in update) return { update_id: update.updateId, inline_query: update.inlineQuery };
  const formatted = formatUpdate(update);
  if (formatted.callback_query) {
    formatted.callback_query.chat_instance = String(formatted.callback_query.message.chat.id);
  }
  return formatted;
};
routes.unshift(compatibilityRoutes);

// Webhook delivery with the secret token header, as Telegram sends it. A failed delivery is
// reported rather than thrown: the package does not await it, and Node would exit.
const addUserUpdate = TelegramServer.prototype.addUserUpdate;
TelegramServer.prototype.addUserUpdate = async function deliver(update) {
  const webhook = this.webhooks[update.botToken];
  if (!webhook) {
    await addUserUpdate.call(this, update);
    return;
  }
  const headers = { 'content-type': 'application/json' };
  if (webhook.secret_token) headers['X-Telegram-Bot-Api-Secret-Token'] = webhook.secret_token;
  try {
    const response = await fetch(webhook.url, {
      method: 'POST', headers, body: JSON.stringify(TelegramServer.formatUpdate(update)),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
  } catch (error) {
    process.stderr.write(`webhook delivery to ${webhook.url} failed: ${error.message}\n`);
  }
  this.updateId += 1;
};

async function main() {
  const server = new TelegramServer({ host: '127.0.0.1', port: 1, storeTimeout: 3600 });
  server.config.port = 0; // the package treats 0 as "unset"; ask the OS for a free port instead
  await server.start();
  const url = `http://127.0.0.1:${server.server.address().port}`;
  server.config.apiURL = url;
  process.stdout.write(`${JSON.stringify({ url })}\n`);
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}

main().catch((error) => {
  process.stderr.write(`emulator failed to start: ${error.stack || error}\n`);
  process.exit(1);
});
