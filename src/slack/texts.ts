/** The bot's own words (the answers' words are in blocks.ts), in every language it speaks. */

export const USAGE = {
  en: [
    '*/diagnose* — find why a proxy or gateway request fails',
    '• `/diagnose https://api.example.com/health` probes the URL (DNS, TCP, TLS, HTTP …) and ranks the causes',
    '• options: `--proxy http://proxy:3128`, `--upstream 10.0.3.4:8080`, `--header "Authorization: Bearer …"`, `--origin https://app.example.com`, `--from zone-a,zone-b`',
    '• `/diagnose <pasted error>` explains an error: an nginx error.log line, a curl -v transcript, a stack trace',
    '• or paste the error in a DM, or mention me with it',
  ].join('\n'),
  zh: [
    '*/diagnose* —— 找出代理或网关请求失败的原因',
    '• `/diagnose https://api.example.com/health` 探测该 URL（DNS、TCP、TLS、HTTP……）并给出原因排序',
    '• 选项：`--proxy http://proxy:3128`、`--upstream 10.0.3.4:8080`、`--header "Authorization: Bearer …"`、`--origin https://app.example.com`、`--from zone-a,zone-b`',
    '• `/diagnose <粘贴的错误>` 解释一段错误：nginx error.log、curl -v 输出、堆栈',
    '• 也可以私信我，或 @ 我并附上错误',
  ].join('\n'),
} as const;

export const TEXT = {
  en: {
    mayNotProbe: 'Probes may not be run from this channel or by this user: ask an admin (PROBE_CHANNELS / PROBE_USERS).',
    expired: 'This answer is too old to act on (answers are kept 7 days, or the bot restarted without REDIS_URL): run /diagnose again.',
    noTarget: 'No URL is known for this answer: run `/diagnose <url>`.',
    secretTarget:
      'The URL or its headers carried a secret, which is not kept (set QUEUE_SECRET to keep targets sealed): run `/diagnose <url>` again.',
    busy: 'Already running for this answer: the result will appear in the thread.',
    notPosted: (e: string) => `I could not post in this channel (${e}): invite me with \`/invite @Gateway Triage\`, or DM me.`,
    slowDown: (sec: number) =>
      `You have run /diagnose many times in a short while: try again in ${sec} s (an admin sets SLACK_COMMAND_RATE_LIMIT).`,
    fixed: (cause: string) =>
      `Thanks: recorded that *${cause}* fixed it. It ranks higher for this workspace, and the fix is recalled when this error comes back.`,
    wrong: (cause: string) => `Thanks: recorded that *${cause}* was not it. It ranks lower for this workspace from now on.`,
    replaced: 'It replaces your earlier vote on this error.',
    repeat: 'You already said so for this error: your vote is counted once.',
    noFeedbackStore: 'Thanks. Feedback is not kept: this bot runs without REDIS_URL.',
  },
  zh: {
    mayNotProbe: '此频道或用户不允许运行探测；请联系管理员（PROBE_CHANNELS / PROBE_USERS）。',
    expired: '这个回答已过期（保留 7 天，或机器人在没有 REDIS_URL 的情况下重启过）：请重新运行 /diagnose。',
    noTarget: '这个回答没有已知的 URL：请运行 `/diagnose <url>`。',
    secretTarget: 'URL 或请求头中含有密钥，未被保存（设置 QUEUE_SECRET 可加密保存）：请重新运行 `/diagnose <url>`。',
    busy: '这个回答的探测正在进行，结果会出现在线程里。',
    notPosted: (e: string) => `无法在此频道发消息（${e}）：请用 \`/invite @Gateway Triage\` 邀请我，或私信我。`,
    slowDown: (sec: number) => `你在短时间内运行了太多次 /diagnose：请在 ${sec} 秒后重试（管理员可设置 SLACK_COMMAND_RATE_LIMIT）。`,
    fixed: (cause: string) => `谢谢：已记录 *${cause}* 解决了问题。此原因在本工作区的排序会提高，下次出现同样的错误时会提示这个修复。`,
    wrong: (cause: string) => `谢谢：已记录 *${cause}* 不是原因。此原因在本工作区的排序会降低。`,
    replaced: '它替换了你之前对这个错误的反馈。',
    repeat: '你已经对这个错误反馈过了，只计一次。',
    noFeedbackStore: '谢谢。未保存反馈：机器人没有配置 REDIS_URL。',
  },
} as const;
