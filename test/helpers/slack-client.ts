import { createHmac, randomUUID } from 'node:crypto';
import { RESPONSE_URL_ORIGIN } from './fake-slack.js';

export const TEAM_ID = 'T0001';

export interface HttpResult {
  status: number;
  text: string;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  json: any;
  ms: number;
}

/** Sends requests to the bot's /slack/events exactly as Slack does: form-encoded and signed. */
export class SlackRequests {
  /** Every request posted, exactly as sent (body and headers), oldest first: what an attacker on the path could capture. */
  readonly sent: Array<{ body: string; headers: Record<string, string> }> = [];

  constructor(
    readonly baseUrl: string,
    private readonly signingSecret: string,
  ) {}

  sign(body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
    const signature = createHmac('sha256', this.signingSecret).update(`v0:${timestamp}:${body}`).digest('hex');
    return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': `v0=${signature}` };
  }

  async post(body: string, headers: Record<string, string> = this.sign(body)): Promise<HttpResult> {
    this.sent.push({ body, headers });
    const started = Date.now();
    const res = await fetch(`${this.baseUrl}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json, ms: Date.now() - started };
  }

  /** Sends a captured request again, byte for byte (a replay); `extra` headers are added, as Slack adds X-Slack-Retry-Num. */
  resend(
    request: { body: string; headers: Record<string, string> } = this.sent.at(-1)!,
    extra: Record<string, string> = {},
  ): Promise<HttpResult> {
    return this.post(request.body, { ...request.headers, ...extra });
  }

  commandBody(command: string, userId: string, text = ''): string {
    return new URLSearchParams({
      token: 'deprecated-verification-token',
      team_id: TEAM_ID,
      team_domain: 'acme',
      channel_id: 'C0001',
      channel_name: 'general',
      user_id: userId,
      user_name: userId.toLowerCase(),
      command,
      text,
      api_app_id: 'A0001',
      is_enterprise_install: 'false',
      response_url: `${RESPONSE_URL_ORIGIN}/commands/${TEAM_ID}/${randomUUID()}`,
      trigger_id: `${Date.now()}.1234.${randomUUID().slice(0, 8)}`,
    }).toString();
  }

  command(command: string, userId: string, text = ''): Promise<HttpResult> {
    return this.post(this.commandBody(command, userId, text));
  }

  /** An Events API delivery (JSON), e.g. app_home_opened. */
  event(event: Record<string, unknown>): Promise<HttpResult> {
    const body = JSON.stringify({
      token: 'deprecated-verification-token',
      team_id: TEAM_ID,
      api_app_id: 'A0001',
      event: { event_ts: `${Date.now() / 1000}`, ...event },
      type: 'event_callback',
      event_id: `Ev${randomUUID().slice(0, 8)}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: TEAM_ID, user_id: 'UBOT0001', is_bot: true, is_enterprise_install: false }],
    });
    return this.post(body, { 'content-type': 'application/json', ...this.sign(body) });
  }

  /** Clicks a button in the Home tab. */
  clickInHome(userId: string, actionId: string): Promise<HttpResult> {
    return this.interaction({
      type: 'block_actions',
      ...who(userId),
      api_app_id: 'A0001',
      token: 'deprecated-verification-token',
      container: { type: 'view', view_id: 'VHOME' },
      trigger_id: `${Date.now()}.1234.${randomUUID().slice(0, 8)}`,
      view: {
        id: 'VHOME',
        type: 'home',
        blocks: [],
        private_metadata: '',
        callback_id: '',
        state: { values: {} },
        hash: '1',
        team_id: TEAM_ID,
        app_id: 'A0001',
        bot_id: 'BBOT0001',
      },
      actions: [
        {
          type: 'button',
          action_id: actionId,
          block_id: 'home',
          text: { type: 'plain_text', text: actionId },
          action_ts: `${Date.now() / 1000}`,
        },
      ],
      is_enterprise_install: false,
    });
  }

  /**
   * Clicks a button in a message, as Slack sends it: the message's channel and ts in the container, a
   * response_url for that message (on the fake Slack), and the button's action_id and value.
   */
  clickInMessage(
    userId: string,
    message: { channel: string; ts: string; blocks: any[] },
    actionId: string,
    options: { ephemeral?: boolean; responseUrl?: string } = {},
  ): Promise<HttpResult> {
    const button = message.blocks
      .flatMap((b: any) => (b.type === 'actions' ? b.elements : []))
      .find((e: any) => e.action_id === actionId);
    if (!button) throw new Error(`no button ${actionId} in the message`);
    return this.interaction({
      type: 'block_actions',
      ...who(userId),
      api_app_id: 'A0001',
      token: 'deprecated-verification-token',
      container: {
        type: 'message',
        message_ts: message.ts,
        channel_id: message.channel,
        is_ephemeral: Boolean(options.ephemeral),
      },
      trigger_id: `${Date.now()}.1234.${randomUUID().slice(0, 8)}`,
      channel: { id: message.channel, name: 'directmessage' },
      message: { type: 'message', ts: message.ts, text: '', blocks: message.blocks },
      response_url: options.responseUrl ?? `${RESPONSE_URL_ORIGIN}/actions/${TEAM_ID}/${randomUUID()}`,
      actions: [
        {
          type: 'button',
          action_id: actionId,
          block_id: 'approval',
          value: button.value,
          text: button.text,
          action_ts: `${Date.now() / 1000}`,
        },
      ],
      is_enterprise_install: false,
    });
  }

  private interaction(payload: Record<string, unknown>): Promise<HttpResult> {
    return this.post(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
  }

  /** Submits a modal as the user: `view` is what the bot last showed, `values` the input state. */
  submitView(
    userId: string,
    shown: { id: string; view: any },
    values: Record<string, Record<string, unknown>> = {},
  ): Promise<HttpResult> {
    return this.interaction({
      type: 'view_submission',
      ...who(userId),
      api_app_id: 'A0001',
      token: 'deprecated-verification-token',
      trigger_id: `${Date.now()}.1234.${randomUUID().slice(0, 8)}`,
      view: viewPayload(shown, values),
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    });
  }

  /** Types a code into the code-entry modal and submits it. */
  submitCode(userId: string, shown: { id: string; view: any }, code: string): Promise<HttpResult> {
    return this.submitView(userId, shown, { code: { code: { type: 'plain_text_input', value: code } } });
  }

  /** Chooses a delivery method in the delivery-choice modal and submits it. */
  chooseDelivery(userId: string, shown: { id: string; view: any }, delivery: 'sms' | 'voice'): Promise<HttpResult> {
    return this.submitView(userId, shown, {
      delivery: {
        delivery: {
          type: 'radio_buttons',
          selected_option: { value: delivery, text: { type: 'plain_text', text: delivery } },
        },
      },
    });
  }

  /** Clicks a button in a modal; `values` is what the user had typed into its inputs (the view's state). */
  clickInView(
    userId: string,
    shown: { id: string; view: any },
    actionId: string,
    values: Record<string, Record<string, unknown>> = {},
  ): Promise<HttpResult> {
    return this.interaction({
      type: 'block_actions',
      ...who(userId),
      api_app_id: 'A0001',
      token: 'deprecated-verification-token',
      container: { type: 'view', view_id: shown.id },
      trigger_id: `${Date.now()}.1234.${randomUUID().slice(0, 8)}`,
      view: viewPayload(shown, values),
      actions: [
        {
          type: 'button',
          action_id: actionId,
          block_id: 'actions',
          text: { type: 'plain_text', text: actionId },
          action_ts: `${Date.now() / 1000}`,
        },
      ],
      is_enterprise_install: false,
    });
  }
}

/** The team and user fields every interaction payload carries. */
function who(userId: string) {
  return {
    team: { id: TEAM_ID, domain: 'acme' },
    user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: TEAM_ID },
  };
}

function viewPayload(shown: { id: string; view: any }, values: Record<string, Record<string, unknown>>) {
  return {
    ...shown.view,
    id: shown.id,
    team_id: TEAM_ID,
    app_id: 'A0001',
    bot_id: 'BBOT0001',
    hash: `${Date.now()}.abc`,
    root_view_id: shown.id,
    previous_view_id: null,
    private_metadata: shown.view.private_metadata ?? '',
    callback_id: shown.view.callback_id ?? '',
    state: { values },
  };
}
