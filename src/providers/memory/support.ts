/**
 * Pieces every part of the memory provider uses: its error helpers and
 * the lifecycle that closes what one provider instance opened.
 */
import { providerErrors } from '../../core/provider-kit.ts';

/** Name of the provider, as configuration spells it. */
export const PROVIDER = 'memory';

export { type Closable, Lifecycle } from '../../core/provider-kit.ts';

const errors = providerErrors(PROVIDER);

/** A NotFoundError raised by this provider. */
export const notFound = errors.notFound;

/** A ConflictError raised by this provider. */
export const conflict = errors.conflict;
