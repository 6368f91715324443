/**
 * Form building blocks: labelled fields whose hint and error are wired to the input for assistive technology, a
 * form-level alert, and `useForm`, which validates, runs the request, maps a failure onto the fields and moves focus
 * to the first thing the user has to fix (or to the alert when no field is at fault).
 */
import {
  useCallback,
  useId,
  useLayoutEffect,
  useRef,
  useState,
  type FormEvent,
  type InputHTMLAttributes,
  type ReactNode,
  type RefObject,
} from 'react';
import {
  emptyErrors,
  errorsFromFailure,
  fieldMessage,
  hasErrors,
  type ErrorMapping,
  type FormErrors,
} from '../lib/form-errors';

type Values<F extends string> = Record<F, string>;

export interface UseFormOptions<F extends string> {
  /** Client-side checks; errors here stop the submit before any request. */
  // NoInfer: the field names come from the initial values only, not from what a check or mapping mentions.
  validate?: (values: Values<F>, fields: readonly F[]) => FormErrors<NoInfer<F>>;
  mapping?: ErrorMapping<NoInfer<F>>;
}

export interface FieldBinding {
  name: string;
  value: string;
  error: string | undefined;
  onChange: (value: string) => void;
}

export interface FormState<F extends string> {
  values: Values<F>;
  errors: FormErrors<F>;
  pending: boolean;
  formRef: RefObject<HTMLFormElement | null>;
  alertRef: RefObject<HTMLDivElement | null>;
  bind(name: F): FieldBinding;
  /** An onSubmit handler: validates, then runs `action` with the values. */
  submit(action: (values: Values<F>) => Promise<void>): (event: FormEvent<HTMLFormElement>) => void;
  /** Validates without running anything; for flows that confirm before acting. */
  check(): boolean;
  /** Runs `action` with failures mapped onto the form; resolves true when it succeeded. */
  run(action: (values: Values<F>) => Promise<void>): Promise<boolean>;
  reset(): void;
}

export function useForm<F extends string>(initial: Values<F>, options: UseFormOptions<F> = {}): FormState<F> {
  const [initialValues] = useState(initial);
  const [values, setValues] = useState<Values<F>>(initial);
  const [errors, setErrors] = useState<FormErrors<F>>(emptyErrors);
  const [pending, setPending] = useState(false);
  // Bumped on every failed attempt: focus moves once per attempt, not on each keystroke that clears an error.
  const [failures, setFailures] = useState(0);
  const formRef = useRef<HTMLFormElement>(null);
  const alertRef = useRef<HTMLDivElement>(null);
  const pendingRef = useRef(false);
  const optionsRef = useRef(options);
  optionsRef.current = options;

  // Layout effect: focus moves in the same frame the errors appear, before anyone can type into the old field.
  useLayoutEffect(() => {
    if (failures === 0) return;
    const invalid = formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]');
    (invalid ?? alertRef.current)?.focus();
  }, [failures]);

  const fail = useCallback((next: FormErrors<F>) => {
    setErrors(next);
    setFailures((n) => n + 1);
  }, []);

  const check = useCallback((): boolean => {
    const found = optionsRef.current.validate?.(values, Object.keys(initialValues) as F[]);
    if (found && hasErrors(found)) {
      fail(found);
      return false;
    }
    return true;
  }, [values, initialValues, fail]);

  const run = useCallback(
    async (action: (values: Values<F>) => Promise<void>): Promise<boolean> => {
      // A second Enter while the first request is out must not send it twice.
      if (pendingRef.current) return false;
      pendingRef.current = true;
      setPending(true);
      setErrors(emptyErrors());
      try {
        await action(values);
        return true;
      } catch (err) {
        fail(errorsFromFailure(err, Object.keys(initialValues) as F[], optionsRef.current.mapping));
        return false;
      } finally {
        pendingRef.current = false;
        setPending(false);
      }
    },
    [values, initialValues, fail],
  );

  const submit = useCallback(
    (action: (values: Values<F>) => Promise<void>) => (event: FormEvent<HTMLFormElement>) => {
      event.preventDefault();
      if (pendingRef.current || !check()) return;
      void run(action);
    },
    [check, run],
  );

  const bind = (name: F): FieldBinding => ({
    name,
    value: values[name],
    error: errors.fields[name],
    onChange: (value: string) => {
      setValues((current) => ({ ...current, [name]: value }));
      // The message was about the old value; leave the others until the next attempt.
      if (errors.fields[name] !== undefined) {
        setErrors((current) => {
          const rest = { ...current.fields };
          delete rest[name];
          return { ...current, fields: rest };
        });
      }
    },
  });

  const reset = useCallback(() => {
    setValues(initialValues);
    setErrors(emptyErrors());
  }, [initialValues]);

  return { values, errors, pending, formRef, alertRef, bind, submit, check, run, reset };
}

export interface TextFieldProps
  extends Omit<InputHTMLAttributes<HTMLInputElement>, 'name' | 'value' | 'onChange' | 'id'>,
    FieldBinding {
  label: string;
  hint?: ReactNode;
  /** Adds a button that shows the password in clear, for typing long passwords without errors. */
  reveal?: boolean;
  optional?: boolean;
}

export function TextField({ label, hint, reveal, optional, name, value, error, onChange, type, ...rest }: TextFieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const [shown, setShown] = useState(false);
  const describedBy = [error ? errorId : null, hint ? hintId : null].filter(Boolean).join(' ');
  const input = (
    <input
      {...rest}
      id={id}
      name={name}
      type={reveal && shown ? 'text' : type}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      className="input"
      aria-invalid={error ? true : undefined}
      aria-describedby={describedBy || undefined}
      data-field={name}
    />
  );
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>
        {label}
        {optional && <span className="muted"> (optional)</span>}
      </label>
      {reveal ? (
        <div className="input-row">
          {input}
          <button
            type="button"
            className="button button-secondary"
            aria-pressed={shown}
            aria-controls={id}
            onClick={() => setShown((s) => !s)}
          >
            {shown ? 'Hide' : 'Show'}
            <span className="visually-hidden"> {label.toLowerCase()}</span>
          </button>
        </div>
      ) : (
        input
      )}
      {error && (
        <p id={errorId} className="field-error" data-testid={`error-${name}`}>
          <span aria-hidden="true">⚠ </span>
          {fieldMessage(label, error)}
        </p>
      )}
      {hint && (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      )}
    </div>
  );
}

/** The form-level message. Focusable so focus can land on it when no single field is at fault. */
export function FormAlert({ message, alertRef }: { message: string | null; alertRef: RefObject<HTMLDivElement | null> }) {
  return (
    <div ref={alertRef} tabIndex={-1} className={message ? 'form-alert' : undefined} data-testid="form-error">
      {message && (
        <p role="alert">
          <span aria-hidden="true">⚠ </span>
          {message}
        </p>
      )}
    </div>
  );
}

export function SubmitButton({ pending, children, pendingLabel, className = 'button' }: {
  pending: boolean;
  children: ReactNode;
  pendingLabel: string;
  className?: string;
}) {
  // aria-disabled rather than disabled: a disabled button drops keyboard focus in the middle of the submit.
  return (
    <button type="submit" className={className} aria-disabled={pending || undefined}>
      {pending ? pendingLabel : children}
    </button>
  );
}
