/** The account and region every sample Lambda event is in. */
export const SAMPLE_ACCOUNT = '000000000000';
export const SAMPLE_REGION = 'us-east-1';
