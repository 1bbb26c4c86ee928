import { Type } from '@sinclair/typebox';

export const SignInForm = Type.Object({
  email: Type.String({ format: 'email', minLength: 3, maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$', errorMessage: 'Enter an email address in the correct format, like name@example.gov.uk' }),
  password: Type.String({ minLength: 1, maxLength: 200, errorMessage: 'Enter your password' }),
  next: Type.Optional(Type.String({ maxLength: 2000 })),
});

export const PasswordForm = Type.Object({
  current: Type.String({ minLength: 1, maxLength: 200, errorMessage: 'Enter your current password' }),
  password: Type.String({ minLength: 1, maxLength: 200, errorMessage: 'Enter a new password' }),
  confirm: Type.String({ minLength: 1, maxLength: 200, errorMessage: 'Enter the new password again' }),
});
