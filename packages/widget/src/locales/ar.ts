import type { Strings } from '../i18n.js';

const plural = new Intl.PluralRules('ar');
const number = new Intl.NumberFormat('ar');

// Modern Standard Arabic, right to left. A name typed in another script is isolated (U+2068 FSI …
// U+2069 PDI), so a Latin name does not drag the punctuation around it to the wrong side.
export default {
  dir: 'rtl',
  close: 'إغلاق المحادثة',
  noticeArchive: 'مشفّرة من طرف إلى طرف: لا يقرؤها إلا موظفو هذه المؤسسة.',
  noticeEphemeral: 'مشفّرة من طرف إلى طرف ومؤقتة: لا يُحفظ أي سجل، ولا حتى لدى هذه المؤسسة.',
  reconnecting: 'جارٍ إعادة الاتصال…',
  offline: 'أنت غير متصل بالإنترنت. ستُرسَل الرسائل عند عودة الاتصال.',
  missing: 'قد تكون بعض الرسائل مفقودة: لم يسلّمها خادم الترحيل كلها.',
  messages: 'الرسائل',
  you: 'أنت',
  agent: 'موظف الدعم',
  sending: 'جارٍ الإرسال…',
  sent: 'أُرسلت',
  delivered: 'وصلت',
  read: 'قُرئت',
  failed: 'لم تُرسَل',
  retry: 'إعادة المحاولة',
  message: 'الرسالة',
  placeholder: 'اكتب رسالة',
  send: 'إرسال',
  typing: (name) => `\u2068${name}\u2069 يكتب…`,
  away: 'لا يوجد أحد متاح الآن. اترك رسالة وسنرد عليك هنا.',
  awayPlaceholder: 'اترك رسالة',
  prechatTitle: 'قبل أن نبدأ',
  name: 'الاسم',
  email: 'البريد الإلكتروني',
  topic: 'الموضوع',
  start: 'بدء المحادثة',
  invalidEmail: 'أدخل عنوان بريد إلكتروني صالحًا.',
  required: 'هذا الحقل مطلوب.',
  // Arabic has six plural forms: the noun is dual for 2, plural for 3–10, singular accusative for 11–99.
  masked: (count) => {
    switch (plural.select(count)) {
      case 'zero':
        return 'لم يُخفَ أي رقم بطاقة أو حساب.';
      case 'one':
        return 'أُخفي رقم بطاقة أو حساب واحد قبل الإرسال.';
      case 'two':
        return 'أُخفي رقمَا بطاقة أو حساب قبل الإرسال.';
      case 'few':
        return `أُخفيت ${number.format(count)} أرقام بطاقات أو حسابات قبل الإرسال.`;
      case 'many':
        return `أُخفي ${number.format(count)} رقمًا لبطاقات أو حسابات قبل الإرسال.`;
      default:
        return `أُخفي ${number.format(count)} رقم بطاقة أو حساب قبل الإرسال.`;
    }
  },
  more: 'خيارات أخرى',
  deleteConversation: 'حذف هذه المحادثة',
  deleteConfirm: 'هل تريد حذف هذه المحادثة نهائيًا؟ ستُمحى من هذا المتصفح ومن خادم الترحيل.',
  confirmDelete: 'حذف',
  cancel: 'إلغاء',
  deleted: 'حُذفت هذه المحادثة.',
  transcript: 'تنزيل نص المحادثة',
  noTranscript: 'محادثة مؤقتة: لا يوجد نص لتنزيله.',
  safetyCode: 'رمز الأمان',
  safetyHelp: 'اطلب من موظف الدعم أن يقرأ لك رمز الأمان الظاهر لديه. إذا تطابق الرمزان، فلا أحد بينكما.',
  soundOn: 'تشغيل الصوت',
  soundOff: 'إيقاف الصوت',
  newMessages: 'رسائل جديدة ↓',
  newConversation: 'بدء محادثة جديدة',
} satisfies Strings;
