import { useId, useState } from 'react';
import { useMutation } from 'urql';
import { plainError } from './api';

/** The governance mutations by target kind: what a responder may do to an account, a file or an app permission. */
export const ACTIONS = {
  account: [
    { mutation: 'suspendAccount', label: 'Suspend' },
    { mutation: 'unsuspendAccount', label: 'Unsuspend' },
    { mutation: 'requirePasswordReset', label: 'Require password reset' },
  ],
  file: [
    { mutation: 'quarantineFile', label: 'Quarantine' },
    { mutation: 'restoreFile', label: 'Restore' },
    { mutation: 'trashFile', label: 'Trash' },
    { mutation: 'removeExternalSharing', label: 'Remove external sharing' },
  ],
  appPermission: [{ mutation: 'revokeAppPermission', label: 'Revoke' }],
} as const;

export type TargetKind = keyof typeof ACTIONS;

interface Pending {
  readonly mutation: string;
  readonly label: string;
}

/** Action buttons for a target; each asks for a reason and a confirmation, then shows the action's id and status. */
export function ActOn({ kind, targetId, targetName }: { kind: TargetKind; targetId: string; targetName: string }) {
  const uid = useId();
  const [pending, setPending] = useState<Pending>();
  const [reason, setReason] = useState('');
  const [result, setResult] = useState<string>();
  const [error, setError] = useState<string>();
  const [{ fetching }, run] = useMutation(
    pending
      ? `mutation Act($input: GovernanceInput!) { ${pending.mutation}(input: $input) { id type status requestedAt } }`
      : 'mutation Noop { __typename }',
  );
  return (
    <div className="act">
      {ACTIONS[kind].map((a) => (
        <button
          key={a.mutation}
          type="button"
          className="action"
          onClick={() => {
            setPending(a);
            setReason('');
            setResult(undefined);
            setError(undefined);
          }}
        >
          {a.label}
        </button>
      ))}
      {pending && (
        <div role="dialog" aria-modal="false" aria-labelledby={`${uid}-title`} className="confirm">
          <h3 id={`${uid}-title`}>
            {pending.label}: {targetName}
          </h3>
          <form
            onSubmit={(event) => {
              event.preventDefault();
              void run({ input: { targetId, reason: reason || undefined } }).then((answer) => {
                if (answer.error) setError(plainError(answer.error));
                else {
                  const action = (answer.data as Record<string, { id: string; type: string; status: string }>)[pending.mutation]!;
                  setResult(`${action.type} requested (${action.status}); its result appears in the governance log.`);
                  setPending(undefined);
                }
              });
            }}
          >
            <label htmlFor={`${uid}-reason`}>Reason</label>
            <input id={`${uid}-reason`} value={reason} required onChange={(e) => setReason(e.target.value)} />
            <button type="submit" className="danger" disabled={fetching || !reason}>
              Confirm {pending.label.toLowerCase()}
            </button>
            <button type="button" onClick={() => setPending(undefined)}>
              Cancel
            </button>
          </form>
        </div>
      )}
      {result && (
        <p role="status" className="ok">
          {result}
        </p>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </div>
  );
}
