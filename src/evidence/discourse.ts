/**
 * What kind of text a line is, so that an error that is only *talked about* does not count as one
 * that *happened*. Documentation ("a 502 means the upstream…"), changelogs ("fix: 'socket hang up'
 * on keep-alive…"), glossaries ("• UH: no healthy upstream hosts") and tutorials quote error text
 * without anything having failed; a person reporting a failure ("I keep getting 502 from the ALB"),
 * and machine output (log lines, stack traces, curl -v) assert it.
 *
 * Keyed on the grammar of describing, in the languages the bot answers pastes in, never on one
 * sentence: definitions (means, indicates, 表示, bedeutet, signifie…), conditions and generic
 * subjects (occurs when, can be caused by, si vous, 如果…时), change notes (fix(…):, now returns,
 * instead of, →), and the speaker's own experience (I, we, my, 我, ich, je, я…), which overrides them.
 */
export type LineKind = 'machine' | 'report' | 'description' | 'plain';

/** Machine output: log prefixes, stack frames, protocol lines, structured data, exception heads. */
const MACHINE = new RegExp(
  [
    String.raw`^\s*[\[(]?\d{4}[-/.]\d{1,2}[-/.]\d{1,2}`, // 2024-03-01, [2024/03/01
    String.raw`^\s*[\[(]?\d{1,2}:\d{2}:\d{2}`, // 10:00:01
    String.raw`^[A-Z][a-z]{2} {1,2}\d{1,2} \d{2}:\d{2}`, // syslog
    String.raw`^\s*\* |^\s*[<>] (?:[A-Za-z0-9-]{1,60}:|[A-Z]{3,10} \S|HTTP\/|\{|\[|\s*$)|^\s*[<>]\s*$`, // curl -v (a markdown quote, "> prose", is read as its prose)
    String.raw`^\s*(?:at |File "|from /|Caused by:|---> |\.\.\. \d+ more)`, // stack frames
    // .NET's stack frames in the languages Windows prints them ("   在 System.Net.Http…(", "   bei …", "   à …", "   場所 …")
    String.raw`^\s+(?:在|bei|à|en|em|в|場所|위치:?)\s+[\w$.\x60<>\[\],+]{3,200}\(`,
    String.raw`^\s*[{[]`, // JSON, log brackets
    String.raw`^\s*"?[\w.-]{1,40}"?\s*[:=]\s*["{[\d]`, // key: "value", key=1
    String.raw`\b(?:ERROR|WARN(?:ING)?|INFO|DEBUG|TRACE|FATAL|CRIT(?:ICAL)?)\b[\]:]`, // levels
    String.raw`\[(?:error|warn|crit|alert|emerg|notice|info|debug)\]`, // nginx levels
    String.raw`^\s*[\w$.]*(?:Error|Exception|Failure|Fault)(?: \[[\w-]+\])?:\s`, // Error: …, java.io.IOException: …
    String.raw`^\s*(?:[$#] |> (?=[a-z./~])|PS [A-Z]:\\|C:\\)`, // prompts ("> npm i"; "> The …" is a quote)
    String.raw`^\s*[A-Z][A-Z_]{1,12}\d{3,8}:\s`, // error codes: AADSTS50126: …, E0000004: …
    String.raw`\bHTTP/\d(?:\.\d)?\b`, // protocol
    String.raw`\berror:[0-9A-Fa-f]{8}:|\bssl=0x[0-9a-f]{6,16}\b`, // OpenSSL's error strings, Android's SSL handles
    String.raw`^\s*(?:curl|wget|ping|mtr|traceroute|nc|openssl|kubectl|docker|npm|pip|git): |^\s*npm (?:ERR!|error|WARN|warn) `, // tool prefixes
    // a cause chain's links ("Failed to transfer file: …:"), Maven's "Return code is"
    String.raw`^\s*(?:Failed to|Could not|Couldn't|Unable to|Cannot) [^\n]{1,300}[:,]\s*$|^\s*Return code is\b`,
    // .NET's HttpClient on a status it does not take ("Response status code does not indicate success: 407 (…)"), and
    // NuGet's padded output labels ("log  : Restoring packages …", "info :   GET https://…", "error: Unable to load …")
    String.raw`\bResponse status code does not indicate success: [1-5]\d\d\b|^\s*(?:log  |info |warn |error):\s`,
    // a qualified exception class and its message (java.net.…, Microsoft.IdentityModel.…)
    String.raw`\b(?:[A-Za-z][\w$]{0,30}\.){2,8}[A-Z][\w$]{0,60}(?:Exception|Error):`,
  ].join('|'),
);

/**
 * Words of running prose: words of the alphabets written with spaces (Latin with its extensions, Greek, Cyrillic,
 * Hebrew, Arabic and Persian, Devanagari), marks included; the scripts written without spaces (Chinese, Japanese,
 * Korean, Thai) count by characters.
 */
// eslint-disable-next-line no-misleading-character-class -- whole Unicode blocks, their combining marks counted as parts of words on purpose
const WORD = /[A-Za-z\u00c0-\u00ff\u0100-\u024f\u1e00-\u1eff\u0370-\u03ff\u0400-\u04ff\u0590-\u05ff\u0600-\u06ff\u0900-\u097f]{2,}/g;
const CJK = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\u0e00-\u0e7f]/g;

/**
 * The letters and digits of the scripts people write here (Latin and its extensions, Greek, Cyrillic, Hebrew,
 * Arabic and Persian, Devanagari, Thai, kana, CJK, Hangul), spelled out: `\p{L}` in the many lookarounds of a
 * case-insensitive Unicode regex made compiling them cost tens of milliseconds at every start of the CLI.
 */
const WORD_CHAR = String.raw`\p{Nd}_A-Za-z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0370-\u03ff\u0400-\u052f\u0590-\u05ff\u0600-\u06ff\u0900-\u097f\u0e00-\u0e7f\u1e00-\u1fff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af`;

/**
 * Whole words of any script: `\b` knows only ASCII, so "ma" would match in "Maßnahmen" and "me" in
 * "discord.me". A word here has no letter, digit or dot before it and no letter or digit after it.
 */
const wholeWords = (list: string) => String.raw`(?<![${WORD_CHAR}.])(?:${list})(?![${WORD_CHAR}])`;

/** The speaker's own experience: first person, and what people say when something happens to them. */
const REPORT = new RegExp(
  [
    wholeWords(
      String.raw`I(?!\.e\.)|I'm|I’m|I've|I’ve|I'd|we|we're|we’re|we've|my|our|me|us|getting|keeps? getting|suddenly|since (?:yesterday|today|this morning|the (?:upgrade|update|deploy))|after (?:upgrading|updating|deploying|restarting|migrating|installing)`,
    ),
    String.raw`我|我们|报错|突然|一直|已尝试|尝试了|遇到|出现了|不成功|怎么办|求助`,
    wholeWords(String.raw`ich|wir|mein|meine|unser|bei mir|bekomme|erhalte|kriege`),
    // French "je", not Dutch "je" (you, your: "je kunt", "je backend") nor German "je nach"
    wholeWords(
      String.raw`je(?! (?:nach|nachdem|kunt|kan|moet|wilt|hebt|bent|zult|zal|krijgt|ziet|gebruikt|eigen|de|het|een|dit|deze|die|website|site|server|backend|browser|app)(?![${WORD_CHAR}]))|j['’]ai|j['’]obtiens|nous|mon|ma|mes|notre`,
    ),
    wholeWords(String.raw`yo|tengo|tenemos|estamos|me sale|me aparece|nos aparece|recibo|recibí|mi|nuestro|nosotros`),
    wholeWords(String.raw`eu|meu|minha|nós|nosso|estou|estamos|estávamos|tenho|recebi|recebemos|recebíamos|tentei|tentamos|tentávamos`),
    wholeWords(String.raw`estábamos|recibíamos|intenté|intentamos|intentábamos|obtengo|obtenemos`),
    wholeWords(String.raw`я|мы|мой|моя|наш|у меня|получаю`),
    // it, pl, nl, tr, id, vi, uk: the speaker's own ("il mio server", "u mnie", "ik krijg", "benim sitem", "saya", "tôi")
    wholeWords(
      String.raw`il mio|la mia|i miei|ho provato|abbiamo provato|ricevo|ottengo|mój|moja|moje|u mnie|dostaję|otrzymuję|próbowałem|próbowałam|ik|mijn|wij|onze|benim|bende|aldım|alıyorum|denedim|saya|aku|kami|tôi|mình|chúng tôi|ми|мій|у мене|отримую`,
    ),
    String.raw`سایت من|سرور من|دریافت می‌?کنم|أحصل على|لدي|عندي|אני|שלי|קיבלתי|ผม|ฉัน|ของเรา`,
    // a bug report's "what happened" heading ("Actual: …", "**Current behavior**:", "Observed result:")
    String.raw`^\s*(?:[-*#>]{1,6}\s*)?(?:\*\*)?(?:Actual(?: behaviou?r| result| outcome| output)?|Current behaviou?r|What happened|Observed(?: behaviou?r| result)?)(?:\*\*)?\s*[:：]`,
    // an error that happened, introducing the output pasted after it ("When saving, this error appeared:")
    String.raw`\b(?:error|message|exception|problem|warning)s? (?:appeared|occurred|popped up|showed up|came up|was (?:thrown|returned|shown|displayed))(?: again)?\b[^\n]{0,40}[:：]\s*$`,
    String.raw`私|僕`,
    // Korean pronouns start a word ("문제가" is "the problem", not "제가").
    String.raw`(?<![${WORD_CHAR}])(?:저는|제가|우리)`,
  ].join('|'),
  'iu',
);

/** A question about an error rather than a report of one: "How do I fix …?", "What does ECONNREFUSED mean?", "Should the API return 401 or 403 here?". */
const HOW_TO =
  /^\s*(?:#{1,6}\s*)?(?:How (?:do|can|should|would) (?:I|we|you|one) (?:fix|resolve|solve|avoid|prevent|handle|debug|troubleshoot)|How to (?:fix|resolve|solve|avoid|prevent|handle|debug|troubleshoot)|What (?:does|do|is|are|causes?)|Why (?:does|do|is|are|would)|(?:Should|Does|Is|Are|Can|Will) (?:the|a|an|it|this|that|there|nginx|envoy|haproxy|squid|traefik|kong|curl)\b|Which (?:status|error|code|timeout|header|setting|one)|Was (?:ist|sind|bedeutet|bedeuten|löst|verursacht)|Wie (?:behebe|löse|vermeide|kann man)|Warum (?:gibt|kommt|tritt)|Qu['’]est-ce qu|Comment (?:corriger|résoudre|éviter)|Pourquoi|¿?Qué (?:es|son|significa)|¿?Cómo (?:solucionar|arreglar|resolver|evitar)|O que (?:é|são|significa)|Como (?:corrigir|resolver|evitar))\b[^\n]{0,200}\?\s*$/i;

/** The voice of documentation, which says "we" without reporting anything: "we recommend that you …". */
const DOC_VOICE =
  /\bwe (?:also |strongly )?(?:recommend|suggest|advise|encourage)\b|\bI['’]ll (?:show|explain|walk|cover|demonstrate)\b|\blet['’]?s find out\b|\blets (?:look|take a look|see|dive|explore)\b|\blet me (?:explain|show|break|walk|describe|demonstrate|cover)\b|\blet['’]s (?:look|take a look|see|break|walk|dive|explore|start|go through|examine|review)\b|\bwe['’]ll (?:look|see|cover|explore|walk|go through|discuss|examine)\b|\bin this (?:article|post|guide|tutorial|blog post)\b|本記事では|この記事では|本文(?:将|介绍|主要)|在本文中|如上所示|如下所示|이 글에서는|이번 글에서는/giu;

/** Describing rather than reporting: definitions, conditions, generic subjects, change notes. */
const DESCRIPTION = new RegExp(
  [
    // en
    String.raw`\b(?:means?|meaning|indicates?|is (?:thrown|raised|returned|emitted)|are (?:thrown|raised|returned)|(?:can|may|might|will|would) (?:occur|happen|be (?:returned|thrown|caused))|occurs? (?:when|if)|happens? when|is caused by|can be caused|by default|(?:^|[.:;]\s{1,2})(?:For example|E\.g\.)|such as|is the (?:standard|default|usual|expected|normal) (?:response|behaviou?r|error|status|result)|instead of|no longer|wouldn['’]t|now (?:returns?|reports?|responds?|fails?)|typically|usually|(?:this|these) errors? (?:is|are|occurs?|means?|happens?|indicates?|can|may|might|usually|typically|appears? when)|(?:causes?|reasons?) (?:of|for) (?:this|these|the) errors?|the error (?:is|occurs|means)|errors? can|thrown (?:when|if)|raised (?:when|if)|(?:is|are) (?:presented|shown|displayed|generated|served|triggered) (?:when|if|whenever)|in addition to (?:an? |the )?[1-5]\d\d (?:response )?(?:code|status)|[1-5]\d\d vs\.? [1-5]\d\d)\b`,
    String.raw`^\s*(?:[-*•]\s*)?if (?:the|a|an|you|your|it|this|there)\b|\bwill return\b|\bway of saying\b|\bis an? (?:HTTP )?(?:status|error|response) code\b`,
    String.raw`(?:^|\s)\(#\d{1,6}[,)]|\bby @[\w-]{1,39} in\b`, // changelog references, release notes' "by @user in #123"
    String.raw`^\s*[-*•]\s*(?:Feature|Bugfix|Bug fix|Change|Fixed|Added|Changed|Removed|Security|Improvement|Enhancement)\s*[:：]`, // changelog bullets
    String.raw`\b(?:should|must|shall) (?:return|respond|fail|reply|raise|throw|send|give)\b|\b(?:can|may|might|could|will|would) (?:be )?(?:fail|failed|rejected|refused|denied) with\b`, // specifications
    String.raw`^\s*To (?:fix|resolve|solve|avoid|prevent|troubleshoot|debug|diagnose|work around)\b|\bThis (?:guide|article|page|post|tutorial|document|section|chapter) (?:explains|shows|describes|covers|walks|helps)\b|\b(?:you|users?|clients?) (?:may|might|will|could|can) (?:see|get|encounter|receive|notice|run into)\b`, // how-to and conditions
    String.raw`\b(?:returns|responds with|replies with|answers with|sends) (?:an? |the )?(?:HTTP )?(?:status )?(?:code )?[1-5]\d\d\b[^.\n]{0,80}\b(?:when|if|whenever|unless)\b`, // "returns 503 when no backend is healthy"
    String.raw`\bthe (?:following |above |below )?(?:table|list|example|diagram|matrix)s? (?:below |above )?(?:describes?|lists?|shows?|explains?)\b`, // docs pointing at their own tables and examples
    // prevention and choices of status, the voice of changelogs and specs: "to avoid an HTTP error code 413",
    // "Use 502 bad gateway when upstream is unavailable", "429 seems more appropriate than 503"
    String.raw`\bto (?:avoid|prevent) (?:an? |the |any )?(?:HTTP )?(?:(?:error|status|response)(?: code)? )?[1-5]\d\d\b|^\s*(?:[-*•]\s*)?(?:Use|Return|Respond with|Send|Document)\s(?:an? |the )?(?:potential |proper |correct )?(?:HTTP )?[1-5]\d\d\b|\b(?:more|less) appropriate than\b`,
    String.raw`\b(?:a|an|any|each|every) [\w -]{1,40} (?:returns|responds with|results in|yields|generates|gets|receives) (?:an? )?(?:HTTP )?[1-5]\d\d\b`, // generic subjects: "a missing key returns 401", "a request that exceeds this limit generates a 413"
    String.raw`\bRFC ?\d{3,4},? (?:section |§ ?)?\d{1,2}(?:\.\d{1,2}){1,3}\b|\bResponse class for\b|\(status code [1-5]\d\d\)`, // references: a spec's section, a library's status classes
    // a status code defined: "The 407 (Proxy Authentication Required) status code is similar to …", "状态码 407 … 代表"
    String.raw`\b[1-5]\d\d \([A-Za-z -]{3,40}\) status code\b|\bstatus code (?:is|indicates|means|signals|tells)\b|(?:状态码|狀態碼)[^\n]{0,60}(?:代表|表示|是指|意味)|(?:código de (?:resposta|estado|status)|code de (?:réponse|statut)|Statuscode)[^\n]{0,60}\b(?:indica|significa|indique|signifie|bedeutet|gibt an)\b`,
    // a change described: "This pull request introduces …", "Adds support for …"
    String.raw`\bThis (?:pull request|PR|commit|change|patch|release|version|update) (?:introduces|adds|fixes|changes|removes|improves|makes|allows|updates)\b|^\s*(?:[-*•]\s*)?(?:Adds|Introduces|Implements) \S`,
    // what a setting or a tool does, and lists that follow: "It specifies the timeout …", "This workflow executes …", "Below is the list of …"
    String.raw`\b(?:It|(?:This|The [\w.-]{2,40}) (?:option|setting|parameter|field|directive|flag|property|value|workflow|tool|script|plugin|module|function|method|command|middleware|filter|policy)) (?:specifies|defines|determines|controls|configures|sets|limits|applies|executes|allows|lets|enables|provides|describes|explains|audits|monitors)\b|\b(?:below|the following) (?:is|are) (?:a |the )?(?:list|table|reasons|causes)\b|\bthe following (?:list|table|reasons|causes)\b`,
    String.raw`^\s*(?:[-*•]\s*)?(?:Cause|Causes|Fix|Solution|Resolution|Symptoms?|Explanation|Meaning|Common (?:failure|error|cause)s?|原因|解决方法|解决办法|解決方法|症状|原因と対策)\s*[:：]`, // docs headings
    // naming an error by its quoted name ("an error of 'Connection Refused'", "une erreur « … »"), but not an error
    // that happened to the speaker's system ("failed with error '502 Bad Gateway'", "is throwing error \"CERT_HAS_EXPIRED\"")
    String.raw`(?<!\b(?:fail(?:s|ed|ing)? with|throw(?:s|ing|n)?|threw|get(?:s|ting)?|got|receiv(?:e|es|ed|ing)|return(?:s|ed|ing)?|show(?:s|ed|ing)?|giv(?:es|ing)|gave|with|saying|says|said) (?:an? |the |this |that |same |following )?)\b(?:error|erro|erreur|Fehler|ошибк[аиу])(?: de| du| des| of| von)? ['"‘’„“«][^'"’“”»\n]{3,60}['"’”»]`,
    // defining a status code in other languages
    String.raw`ist ein (?:HTTP-)?Statuscode|est un code (?:d['’]état|de statut|HTTP)|es un código de (?:estado|error)|é um código de (?:status|estado)|является кодом|상태 코드입니다|ステータスコード(?:です|で)|状态码[，,]?(?:表示|是)`,
    // zh
    String.raw`是一个常见的(?:错误|问题)|直译为|表示|意味着|是指|指的是|代表(?:客户端|服务器|服务端|请求|错误|着)|的意思|含义|通常(?:是|会|表示)|例如|比如|如果|可能是|可能会|解决方法|原因是|而非|而不是`,
    // de
    wholeWords(
      String.raw`bedeutet|bezeichnet|zeigt an|wenn|zum Beispiel|normalerweise|tritt auf|weist darauf hin|hinweist|erhalten Sie|sehen Sie|bekommen Sie`,
    ),
    // fr
    wholeWords(String.raw`signifie|indique|lorsque|lorsqu|si vous|par exemple|généralement|différent`),
    // es
    wholeWords(String.raw`significa|indica|cuando|por ejemplo|normalmente|en lugar de|obtienes|se produce`),
    // pt
    wholeWords(String.raw`significa|indica|quando|por exemplo|normalmente|em vez de|diferentemente|ao contrário`),
    // ru
    String.raw`(?:означа(?:ет|ют|ющий|ющая)|указыва(?:ет|ют|ющий|ющая|ющее)|когда|например|обычно|вместо|приводит к|приводят к|может привести)`,
    // uk, ro: a status or an error defined ("означає", "indică faptul că")
    wholeWords(String.raw`означає|вказує на|наприклад|зазвичай|înseamnă|indică|de exemplu|de obicei|atunci când`),
    // pl, nl, tr, vi, it: a status or an error defined ("to komunikat HTTP oznaczający, że", "betekent dat", "anlamına gelir", "là một mã lỗi HTTP báo hiệu rằng")
    wholeWords(
      String.raw`oznacza(?:jący|jąca|jące)?|wskazuje|na przykład|zazwyczaj|betekent|geeft aan|bijvoorbeeld|meestal|anlamına gel(?:ir|mektedir)|örneğin|genellikle|báo hiệu|có nghĩa là|nghĩa là|là một mã|ví dụ|thường là|significa che|indica che|ad esempio|di solito`,
    ),
    // it, es, pt, ru, pl, nl, tr, vi, id, el: "may appear", "depending on", "occurs when", "which implies", "means"
    wholeWords(
      String.raw`può (?:apparire|presentarsi|verificarsi|essere causat[oa])|a seconda d(?:el|ella|ei|egli|i)|si verifica quando|que implica|distinto de|a diferencia de|puede aparecer|pode aparecer|ocorre quando|может (?:сопровождаться|возникать|возникнуть|появляться|появиться|означать)|в зависимости от|возникает (?:когда|если)|występuje,? gdy|może (?:oznaczać|wystąpić|pojawić się)|w zależności od|treedt op wanneer|kan (?:optreden|verschijnen)|meydana gelir|ortaya çıkar|gösterebilir|eğer|xảy ra khi|berarti|artinya|menunjukkan bahwa|misalnya|biasanya|terjadi ketika|σημαίνει|υποδεικνύει|για παράδειγμα|συνήθως`,
    ),
    // fa, ar, he, hi, th
    String.raw`یعنی|به این معنی|به معنای|زمانی رخ می|رخ می‌?دهد|معمولاً|معمولا|برای مثال|يعني|تعني|يشير إلى|تشير إلى|يحدث عندما|على سبيل المثال|عادةً|פירושו|משמעו|מציין|לדוגמה|בדרך כלל|का अर्थ है|का मतलब|उदाहरण के लिए|आमतौर पर|หมายถึง|ระบุว่า|เกิดขึ้นเมื่อ|ตัวอย่างเช่น|โดยปกติ|มักจะ`,
    // ja, ko
    String.raw`を示します|を表します|を意味します|とも呼ばれ|と呼ばれ(?:ます|る)|を返します|が返されます|が発生します|のことです|を指します|とは|意味|場合|例えば|通常|의미|경우|예를 들어|일반적으로|나타나곤|나타냅니다|의미합니다|뜻합니다`,
  ].join('|'),
  'iu',
);

/**
 * Lines that describe by their layout, however short: glossary bullets (also an error name in backticks or
 * bold, then a colon), headings that name a status code, mapping arrows, table rows, and the declarations of an
 * API reference (`export const ERR_TIMED_OUT = -7;`, `public const int Status407ProxyAuthenticationRequired = 407;`,
 * `static var connectionRefused: Errno { get }`, `class Status407 {}`), an error table's entries (`NSURLErrorTimedOut = -1001,`,
 * several of them on one line, NSS's `ER3(SEC_ERROR_…, …`, `#define ERR_… -7`), a status glossary's bullets
 * (`- 504 Gateway Timeout: …`), a docs commit's title (`Update 413-errors.md`), a Chinese how-to title
 * (解决…问题). A line of code that returns ("return {", "return null;") is none of these.
 */
const LAYOUT =
  /^\s*(?:[-*•]\s*)?(?:v?\d{1,3}(?:\.\d{1,4}){1,3}:?\s+)?(?:[Ff]ix(?:ed|es)?|[Rr]esolved?|[Rr]esolves|[Aa]dded|[Ii]mproved?|[Ii]mproves|[Hh]andled?|[Hh]andles|[Rr]eturn(?! code)|[Nn]ow returns?)\s(?!it\b|this\b|that\b)(?![^\n]{0,200}[{;(]\s*$)\S[^\n]{0,200}$|^\s*(?:[-*•]\s*)?(?:[Ff]ix|[Ff]eat|[Cc]hore|[Pp]erf|[Rr]efactor|[Dd]ocs)(?:\([\w./-]{1,40}\))?!?:\s|^\s*[a-z]+(?:_[a-z]+)*_(?:timeout|size|buffers?|time|interval|retries|tries)\s*[:：]\s*[^\s\d]|^\s*[-*•]\s*(?:Add|Introduce|Implement|Support|Allow|Quieter|Improve|Remove|Avoid|Prevent|Ensure)s? (?:the |a |an |support |ability |option |messages? )|^\s*(?:[-*•]|\*\))\s*(?:Feature|Bugfix|Bug fix|Fixed|Added|Changed|Removed|Improvement|Enhancement|Change|Security)s?\s*[:：]|^\s*Changes (?:with|to|in|for) [\w.-]{2,40}[ -]v?\d{1,3}\.\d{1,3}|^\s*(?:[-*•]\s*)?(?:Bug|Issue|Regression|Fixes|Fixed) #?\d{2,7}\s*[:：]\s|^\s*[-*•]\s*(?:`[^`\n]{3,60}`|\*\*[^*\n]{3,60}\*\*)\s*[:：—–]\s|^#{1,6}\s[^\n]{0,80}\b[1-5]\d\d\b|^\s*•\s*\w{1,20}:\s|^\s*[-*•]\s*[A-Z][A-Z0-9_]{2,40}\s?:\s|\S[ \t]{0,3}→[ \t]{0,3}\S|^\s*\d{3} [A-Za-z -]{3,40}[:：]\s*[\u3040-\u9fff\uac00-\ud7af]|^\s*\|[^\n]{1,300}\|\s*$|^[^|\n]{1,200}\s\|\s*$|^\s*\/\/ |^#{1,6}\s+\x60[A-Za-z][\w.:-]{2,60}\x60\s*$|^\s*(?:class [A-Z]\w{0,60}\([\w., ]{0,80}\):|def \w{1,60}\([^)\n]{0,200}\)(?: -> [\w[\], .]{1,60})?:)\s*$|^\s*(?:(?:export|public|pub|static|final|readonly|private|protected|internal|const|let|var|val)\s+){1,5}(?:[\w.<>[\]]{1,60}\s+)?[A-Za-z_]\w{0,80}(?:\s*:\s*[\w.<>[\]]{1,40})?(?:\s*=\s*-?\d{1,9}\s*;?|\s*\{\s*get\s*\}|\s*;)\s*$|^\s*(?:export\s+)?class \w{1,60}\s*\{\s*\}\s*$|^\s*[A-Za-z_]\w{3,80} = -?\d{1,9},\s*(?:\/\/[^\n]{0,200})?$|(?:\b[A-Za-z_]\w{3,60} = -?\d{1,9}, ?){3}|^\s*(?:ER[23]\(\s?[A-Z][A-Z0-9_]{3,60},|#define\s+[A-Za-z_]\w{2,60}\s+\(?-?\d)|^\s*[-*•]\s*(?:HTTP )?[1-5]\d\d [A-Z][A-Za-z -]{2,40}\s*[:：—–]\s|^\s*(?:Update|Create|Add|Delete|Rename)\s[^\n]{1,150}\.md\s*$|^\s*(?:#{1,6}\s*)?(?:解决|如何解决|怎么解决|处理)[^\n]{1,80}(?:问题|错误|报错)\s*$|^\s*(?:\[[^\]\n]{1,30}\]\s*)?(?:Update|Updated|Increase|Increased|Decrease|Decreased|Raise|Raised|Lower|Lowered|Change|Changed|Bump|Bumped)\s[^\n]{0,80}\bdefault\b/;

/** Advice that error pages and messages print themselves ("please try again", "if this error persists"). */
const ADVICE =
  /攻击者|攻撃者|攻擊者|\battackers? (?:might|may|could) be\b|\bAngreifer\b|\batacantes\b|\battaquants\b|злоумышленник|\b(?:please|try again|may be caused by a misconfiguration or an attacker|contact (?:us|support|your|the)|persists?|if you (?:continue|believe|think|keep|are the (?:owner|administrator))|support@)|如果您(?:觉得|认为)|请(?:与[^。\n]{1,20})?联系|请稍后再?试|请重试|場合は[^。\n]{0,40}(?:連絡|お問い合わせ)|してください/i;

/** A change shown as a diff (a ```diff fence, a hunk header): what it quotes is being edited, not happening. */
const DIFF_START = /^\s*(?:(?:\x60{3,4}|~~~)(?:diff|patch)\s*$|@@ -\d{1,7}(?:,\d{1,7})? \+\d{1,7}(?:,\d{1,7})? @@)/;

/** A line that is one Markdown code span and nothing else. */
const WHOLE_CODE_SPAN = /^\s*\x60([^\x60\n]{1,2000})\x60\s*$/;

/** A log line's date and time to the second at its start (`2019-11-30 12:20:14.271`, `><W>2019-11-30 12:20:14`, `[2024/03/01 10:00:00`). */
const STAMPED = /^\s*[[(<>A-Z]{0,6}\d{4}[-/.]\d{1,2}[-/.]\d{1,2}[ T]\d{1,2}:\d{2}:\d{2}/;

/** More output lines than any docs page quotes: a text past it is not a page, whatever follows. */
const EXAMPLE_LINES_MAX = 64;

/** Code fences and lines of brackets alone (```json, `{`, `},`): the frame of an example, not its content. */
const PUNCTUATION_ONLY = /^\s*(?:(?:```|~~~)[\w+-]{0,20}|[{}[\]()<>,;]{1,4})\s*$/;

/**
 * Hard-wrapped prose (docs, markdown, e-mail) back into its sentences: a line that does not end a
 * sentence, followed by one that starts at the margin with a lower-case letter, continues it.
 * Indented lines (stack frames, quoted output), lines that look like output and `label: message`
 * lines ("curl: (7) …", "failed: Error …") are never joined.
 */
function* unwrapProse(lines: Iterable<string>): Generator<string> {
  let held: string | undefined;
  for (const line of lines) {
    if (
      held !== undefined &&
      /^[a-z([`"']/.test(line) &&
      !/^[\w.-]{1,30}:\s/.test(line) &&
      !MACHINE.test(line) &&
      !MACHINE.test(held) &&
      !PUNCTUATION_ONLY.test(line) &&
      !PUNCTUATION_ONLY.test(held) &&
      !/[.!?:;。！？]\s*$/.test(held)
    ) {
      held = `${held.trimEnd()} ${line}`;
      continue;
    }
    if (held !== undefined) yield held;
    held = line;
  }
  if (held !== undefined) yield held;
}

/** Classify one line of text. Prose with neither a report nor a description marker is 'plain'. */
export function classifyLine(line: string): LineKind {
  if (LAYOUT.test(line) || GUIDE_HEADING.test(line)) return 'description';
  if (MACHINE.test(line)) return 'machine';
  const words = line.match(WORD)?.length ?? 0;
  const cjk = line.match(CJK)?.length ?? 0;
  const prose = words >= 6 || cjk >= 10 || (words >= 3 && cjk >= 4);
  // A short line in the speaker's own voice ("I'm getting this too:", "我这边也报错") reports, however short.
  if (!prose) return (words >= 3 || cjk >= 4) && REPORT.test(line.replace(DOC_VOICE, '')) ? 'report' : 'machine';
  if (HOW_TO.test(line)) return 'description';
  const voiced = line.replace(DOC_VOICE, '');
  if (REPORT.test(voiced)) return 'report';
  if (voiced !== line) return 'description';
  if (ADVICE.test(line)) return 'plain';
  return DESCRIPTION.test(line) ? 'description' : 'plain';
}

/**
 * The headings of a troubleshooting guide, a docs page or a changelog, alone on their line ("## Symptom",
 * "Possible Causes", "Fehlermeldungen", "解决方法", "## [0.6.1] - 2017-07-15", "### Fixed"): the page
 * describes, whatever its examples show. So do a commit message's trailers ("Closes #4823",
 * "Signed-off-by: …"): the text is a change, and the failure it names is the one it fixes.
 */
const GUIDE_HEADING =
  /^\s*#{1,6}\s*(?:\[?v?\d{1,4}\.\d{1,4}(?:\.\d{1,4})?[\w.+-]{0,20}\]?(?:\s*[-–(]\s*\d{4}-\d{2}-\d{2}\)?)?|Added|Changed|Deprecated|Removed|Fixed|Security|Bug ?fixes|Features|Improvements|Breaking changes)\s*$|^\s*(?:#{1,6}\s*)?(?:Symptoms?|Error messages|Possible causes?|Common causes?|Causes?|Root cause|Resolution|Diagnosis|Diagnose|Troubleshooting(?: [^\n]{1,60})?|Overview|Solutions?|Workarounds?|How to fix(?: [^\n]{1,60})?|NAME|SYNOPSIS|DESCRIPTION|SEE ALSO|Syntax|Default|Context|Usage|Examples?|语法|默认值?|说明|上下文|作用域|用法|示例|構文|デフォルト|コンテキスト|Inheritance Relationships|Class Documentation|Defined in (?:File|Header) \S{1,80}|Base Types?|Public (?:Functions|Members|Methods|Types)|Constructors?|Properties|Parameters|Returns|Remarks|Exceptions|Fehlermeldungen?|Ursachen?|Lösung|Symptôme|Causes? possibles?|Síntomas?|Causas? posibles?|Solución|Sintomas?|Causas? possíveis|Solução|Симптомы?|Причины?|Решение|症状|现象|原因|可能的原因|解决方案|解决方法|排查(?:步骤|方法)?|原因と対処法?|対処法|解決方法)\s*[:：]?\s*$|^\s*#{1,6}\s*Error message\s*[:：]?\s*$|^\s*(?:Closes|Closed|Fixes|Fixed|Resolves|Resolved|Refs?|Related to|See also)[:：]?\s+(?:[\w.-]{1,39}\/[\w.-]{1,100})?#\d{1,7}(?:\s*,\s*#\d{1,7}){0,5}\s*\.?\s*$|^\s*(?:Signed-off-by|Co-authored-by|Reviewed-by|Acked-by|Reported-by|Change-Id):\s\S/i;

/** A line of one to four words and nothing else, bulleted or not ("References:", "Mozilla.", "- HTTP", "Proxied to upstream service?"): a heading or a name, neither output nor prose. */
const LABEL = /^\s*(?:[-*•]\s{1,3})?[A-Za-zÀ-ÿ]+(?:[ -][A-Za-zÀ-ÿ]+){0,3}[.:?]?\s*$/;

/**
 * Whether a whole text describes failures rather than showing one: some prose describes and none
 * reports, and the rest is only a few lines of quoted output (a docs page or a tutorial with its
 * example). Such a text gives no symptom at all.
 */
export function describesOnly(lines: Iterable<string>, errorPage = false): boolean {
  let describe = 0;
  let machine = 0;
  let plain = 0;
  let stamped = false;
  for (const wrapped of unwrapProse(lines)) {
    // Markdown's inline code around a whole pasted line (`2018/06/24 22:41:22 [crit] …`) is the line itself.
    const line = wrapped.replace(WHOLE_CODE_SPAN, '$1');
    if (line.trim() === '') continue;
    // A text that opens as a diff shows a change to docs or code, whatever the lines it edits say.
    if (DIFF_START.test(line) && describe + machine + plain === 0) return true;
    if (GUIDE_HEADING.test(line) || DIFF_START.test(line)) {
      describe++;
      continue;
    }
    if (LABEL.test(line) || PUNCTUATION_ONLY.test(line)) continue;
    const kind = classifyLine(line);
    if (kind === 'report') return false;
    if (kind === 'machine' && STAMPED.test(line)) stamped = true;
    if (kind === 'description') describe++;
    // A page's headings may come after its examples, so the ratio is judged at the end; a long log
    // stops the count early.
    else if (++machine > EXAMPLE_LINES_MAX && machine > describe * 2) return false;
    if (kind === 'plain') plain++;
  }
  if (describe === 0) return false;
  // Log lines stamped to the second beside one line of question or comment ("Is the problem on my side?"): a paste
  // from a system that failed. A page that explains quotes its example between several lines of explanation.
  if (stamped && describe === 1) return false;
  // Few lines of output beside the descriptions, or an explainer: prose lines (that describe or
  // say nothing either way) at least as many as its lines of output. A server's error page explains
  // itself in prose too ("Possible causes of this error include: …"), so it must pass the first test.
  return machine <= Math.max(3, describe * 2) || (!errorPage && plain >= 2 && machine - plain <= plain + describe);
}

/** Signal families whose values name kinds of failure: a text that names many of them, each once, lists them. */
const LISTED_FAMILIES = ['net.error', 'http.status', 'tls.error', 'curl.exit'];
/** Distinct values of one family, and the lines they are spread over, that make a listing. */
const LISTING_MIN = 5;

/**
 * Whether the signals read from a text are those of a reference listing rather than of a failure:
 * a table of errno or Winsock codes, a page of HTTP statuses, a tutorial's list of the forms an
 * error takes. Five or more kinds of one family (net.error, http.status, …), none of them on more
 * than one line, spread over five lines or more: a failing system repeats itself, a reference names
 * each thing once.
 */
export function referenceListing(signals: readonly { name: string; value?: string; line?: number }[]): boolean {
  for (const family of LISTED_FAMILIES) {
    const linesOf = new Map<string, Set<number>>();
    for (const s of signals) {
      if (s.name !== family || s.value === undefined || s.line === undefined) continue;
      let lines = linesOf.get(s.value);
      if (!lines) linesOf.set(s.value, (lines = new Set()));
      lines.add(s.line);
    }
    if (linesOf.size < LISTING_MIN) continue;
    const lines = new Set<number>();
    let repeated = false;
    for (const ls of linesOf.values()) {
      if (ls.size > 1) repeated = true;
      for (const l of ls) lines.add(l);
    }
    if (!repeated && lines.size >= LISTING_MIN) return true;
  }
  return false;
}

/**
 * A monitor's notice that an alert has recovered (Alertmanager's and Grafana's `"status": "resolved"`, Nagios'
 * `Notification Type: RECOVERY`, a check plugin's `HTTP OK:`, Uptime Kuma's `[✅ Up]`, Upptime's "is back up", 恢复通知 / 告警状态：resolved), with
 * nothing in it still firing. Nothing is failing any more: it gets no cause. A person's "[RESOLVED]" thread title is
 * not such a notice.
 */
const RECOVERED =
  /"status"\s{0,2}:\s{0,2}"resolved"|\bstatus=resolved\b|\bStatus:\s{0,2}RESOLVED\b|告警状态\s{0,2}[:：]\s{0,2}(?:resolved|已恢复)|恢复通知|\bNotification Type:\s{0,2}RECOVERY\b|\[✅ ?Up\]|\bis back up\b|\b(?:HTTP|HTTPS|PING|TCP|SSL|SSL_CERT|DNS|CURL) OK\s{0,2}[-:]/i;
const STILL_FIRING =
  /"status"\s{0,2}:\s{0,2}"firing"|\bstatus=firing\b|\bStatus:\s{0,2}FIRING\b|\[FIRING|告警状态\s{0,2}[:：]\s{0,2}(?:firing|告警中)|\bNotification Type:\s{0,2}PROBLEM\b|\[🔴|\bis DOWN\b/i;

export function recoveryNotice(text: string): boolean {
  return RECOVERED.test(text) && !STILL_FIRING.test(text);
}

/**
 * An incident told after the fact: a postmortem, an incident report, a root cause analysis, "the outage was caused
 * by …". It names the failures it was about, and they are over: it gets no cause, like a recovery notice.
 */
const RETROSPECTIVE =
  /\b(?:post-?mortem|incident report|root cause analysis)\b|\bthe (?:incident|outage|disruption|degradation) (?:was|has been) (?:caused|triggered|resolved|mitigated)\b/i;

export function retrospective(text: string): boolean {
  return RETROSPECTIVE.test(text);
}

/**
 * A change shown as a diff without its header: a line taken out ("-This happens when …") and the line put in
 * right after it ("+This happens when …"). What the lines say is being edited, not happening. (A Markdown
 * bullet has a space after its dash.)
 */
const DIFF_PAIR = /^-(?![-\s])[^\n]*\n\+(?![+\s])/m;

export function diffShown(text: string): boolean {
  return DIFF_PAIR.test(text);
}
