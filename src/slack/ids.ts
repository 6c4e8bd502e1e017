/** callback_id, block_id and action_id values shared by views and listeners. */
export const CALLBACK = {
  deliveryChoice: 'delivery_choice',
  codeEntry: 'code_entry',
  deliveryPreference: 'delivery_preference',
  approvalReason: 'approval_reason',
  approvalDeny: 'approval_deny',
  breakGlass: 'approval_break_glass',
} as const;

export const BLOCK = {
  delivery: 'delivery',
  code: 'code',
  reason: 'reason',
  ticket: 'ticket',
  note: 'note',
} as const;

export const ACTION = {
  delivery: 'delivery',
  code: 'code',
  resendCode: 'resend_code',
  switchDelivery: 'switch_delivery',
  homeLogin: 'home_login',
  homeLogout: 'home_logout',
  homeChangeDelivery: 'home_change_delivery',
  reason: 'reason',
  ticket: 'ticket',
  note: 'note',
  approve: 'approval_approve',
  deny: 'approval_deny',
  cancelApproval: 'approval_cancel',
  breakGlass: 'approval_break_glass',
} as const;
