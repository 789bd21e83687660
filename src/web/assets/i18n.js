// Every visible string, by key, in Chinese (the default) and English. The shell's strings are
// here; each portal module adds its own with `extend`, so portals never edit each other's lines.
const strings = {
  zh: {
    'app.name': '物业服务',
    'app.loading': '正在加载……',
    'app.skip': '跳到正文',
    'nav.label': '主导航',
    'nav.home': '首页',
    'bar.signed_in_as': '已登录：{name}（{role}）',
    'bar.language': 'English',
    'bar.language_label': 'Switch to English',
    'bar.large_text': '大字模式',
    'bar.logout': '退出登录',
    'role.platform_admin': '平台管理员',
    'role.company_admin': '公司管理员',
    'role.manager': '物业经理',
    'role.cashier': '收银员',
    'role.dispatcher': '调度员',
    'role.technician': '维修师傅',
    'role.committee': '业委会委员',
    'role.owner': '业主',
    'login.title': '登录',
    'login.intro': '请用手机号或电子邮箱和密码登录。',
    'login.login': '手机号或电子邮箱',
    'login.password': '密码',
    'login.submit': '登录',
    'login.signed_out': '您已退出登录。',
    'login.expired': '登录已过期，请重新登录。',
    'home.title': '欢迎，{name}',
    'home.no_pages': '此角色的页面尚未开放，请使用 API 文档：',
    'notfound.title': '找不到这个页面',
    'notfound.back': '回到首页',
    'otherrole.title': '这个页面要换个账号打开',
    'otherrole.text': '这个页面给{roles}使用。您现在登录的是{name}（{role}）。',
    'otherrole.switch': '退出，换个账号登录',
    'error.network': '连不上服务器，请检查网络后再试。',
    'error.field': '（{field}）',
    'error.code.validation_failed': '填写的内容有误，请检查后再试',
    'error.code.bad_request': '请求有误，请检查后再试',
    'error.code.conflict': '与当前记录的状态冲突，请刷新后再试',
    'error.code.forbidden': '您的角色不能进行此操作',
    'error.code.not_found': '找不到这条记录，或您无权查看',
    'error.code.unauthenticated': '请先登录',
    'error.code.too_many_attempts': '尝试次数过多，请稍后再试',
    'error.code.payload_too_large': '文件太大，请换一个小一些的文件',
    'error.code.rows_rejected': '文件中有错误的行，未导入任何内容',
    'error.code.internal': '服务器出错了，已记录，请稍后再试',
    'error.code.other': '操作没有成功',
    'login.wrong': '账号或密码不正确，请重新输入。',
    'common.print': '打印',
    'common.back': '返回',
    'common.yes': '是',
    'common.no': '否',
    'common.none': '暂无',
    'common.saved': '已保存。',
    'common.download': '下载',
    'common.working': '正在处理……',
  },
  en: {
    'app.name': 'Property services',
    'app.loading': 'Loading…',
    'app.skip': 'Skip to content',
    'nav.label': 'Main navigation',
    'nav.home': 'Home',
    'bar.signed_in_as': 'Signed in as {name} ({role})',
    'bar.language': '中文',
    'bar.language_label': '切换到中文',
    'bar.large_text': 'Large text',
    'bar.logout': 'Log out',
    'role.platform_admin': 'platform administrator',
    'role.company_admin': 'company administrator',
    'role.manager': 'manager',
    'role.cashier': 'cashier',
    'role.dispatcher': 'dispatcher',
    'role.technician': 'technician',
    'role.committee': 'committee member',
    'role.owner': 'owner',
    'login.title': 'Log in',
    'login.intro': 'Log in with your mobile number or email address and your password.',
    'login.login': 'Mobile number or email',
    'login.password': 'Password',
    'login.submit': 'Log in',
    'login.signed_out': 'You have logged out.',
    'login.expired': 'Your session has ended; please log in again.',
    'home.title': 'Welcome, {name}',
    'home.no_pages': 'The pages for this role are not open yet; use the API documentation:',
    'notfound.title': 'Page not found',
    'notfound.back': 'Back to the home page',
    'otherrole.title': 'This page needs another account',
    'otherrole.text': 'This page is for: {roles}. You are logged in as {name} ({role}).',
    'otherrole.switch': 'Log out and log in with another account',
    'error.network': 'The server cannot be reached; check the network and try again.',
    'error.field': ' ({field})',
    'error.code.validation_failed': 'Something entered is not right; please check it and try again',
    'error.code.bad_request': 'The request is not right; please check it and try again',
    'error.code.conflict': 'This clashes with the record as it is now; please reload and try again',
    'error.code.forbidden': 'Your role may not do this',
    'error.code.not_found': 'This record does not exist, or is not yours to see',
    'error.code.unauthenticated': 'Please log in first',
    'error.code.too_many_attempts': 'Too many attempts; please wait a while and try again',
    'error.code.payload_too_large': 'The file is too large; please choose a smaller one',
    'error.code.rows_rejected': 'The file has rows in error; nothing was imported',
    'error.code.internal': 'Something failed on the server; it has been logged, please try again later',
    'error.code.other': 'That did not work',
    'login.wrong': 'The login or password is not right; please try again.',
    'common.print': 'Print',
    'common.back': 'Back',
    'common.yes': 'Yes',
    'common.no': 'No',
    'common.none': 'None',
    'common.saved': 'Saved.',
    'common.download': 'Download',
    'common.working': 'Working…',
  },
};

export const LANGUAGES = { zh: 'zh-CN', en: 'en' };

let current = localStorage.getItem('wuye.lang') === 'en' ? 'en' : 'zh';

/** The current language: 'zh' or 'en'. */
export function lang() {
  return current;
}

export function setLang(code) {
  current = code === 'en' ? 'en' : 'zh';
  localStorage.setItem('wuye.lang', current);
  document.documentElement.lang = LANGUAGES[current];
}

/** Adds a portal's strings: `extend({ zh: {...}, en: {...} })`. */
export function extend(more) {
  for (const code of Object.keys(strings)) Object.assign(strings[code], more[code] || {});
}

/** The string for `key` in the current language, `{name}` placeholders filled from `params`.
 *  A missing key shows itself, so it is noticed (and the browser tests look for it). */
export function t(key, params = {}) {
  const text = strings[current][key] ?? strings.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? `{${name}}`));
}
