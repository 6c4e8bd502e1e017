/** callback_id, block_id and action_id values shared by views and listeners. */
export const CALLBACK = {
  deliveryChoice: 'delivery_choice',
  codeEntry: 'code_entry',
  deliveryPreference: 'delivery_preference',
} as const;

export const BLOCK = {
  delivery: 'delivery',
  code: 'code',
} as const;

export const ACTION = {
  delivery: 'delivery',
  code: 'code',
  resendCode: 'resend_code',
  switchDelivery: 'switch_delivery',
  homeLogin: 'home_login',
  homeLogout: 'home_logout',
  homeChangeDelivery: 'home_change_delivery',
} as const;
