/**
 * A compile-time contract: the analyzer's `UsageRecord` is what pricing's `UsageInput`
 * reads (billing-api does not depend on the analyzer; the CLI sees both, so the build
 * fails here if the two shapes drift apart).
 */
import type { UsageRecord } from '@tally/analyzer';
import type { UsageInput } from '@tally/billing-api';

/** `true` only while every UsageRecord is a UsageInput; otherwise this does not compile. */
export const USAGE_RECORD_IS_USAGE_INPUT: UsageRecord extends UsageInput ? true : never = true;
