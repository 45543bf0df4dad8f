/**
 * AssumeRoleWithWebIdentity's DurationSeconds range (AWS STS API reference):
 * at least 15 minutes, at most 12 hours; the role's own MaxSessionDuration
 * may cap it lower, which STS reports as a ValidationError.
 */
export const STS_MIN_DURATION_SECONDS = 900;
export const STS_MAX_DURATION_SECONDS = 43_200;
