/**
 * More labelled fields for `useForm` (see form.tsx): a text area with a character count, a select and a checkbox,
 * each with its hint and error wired to the control for assistive technology, like TextField.
 */
import { useId, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';
import { fieldMessage } from '../lib/form-errors';
import type { FieldBinding } from './form';

function describedBy(...ids: (string | null)[]): string | undefined {
  const list = ids.filter(Boolean).join(' ');
  return list || undefined;
}

function FieldError({ id, name, label, error }: { id: string; name: string; label: string; error: string }) {
  return (
    <p id={id} className="field-error" data-testid={`error-${name}`}>
      <span aria-hidden="true">⚠ </span>
      {fieldMessage(label, error)}
    </p>
  );
}

export interface TextAreaFieldProps
  extends Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'name' | 'value' | 'onChange' | 'id'>,
    FieldBinding {
  label: string;
  hint?: ReactNode;
  optional?: boolean;
  /** Shows "n / max" under the field; the count is announced only through its label, not on every keystroke. */
  maxChars?: number;
}

export function TextAreaField({ label, hint, optional, maxChars, name, value, error, onChange, ...rest }: TextAreaFieldProps) {
  const id = useId();
  const over = maxChars !== undefined && value.length > maxChars;
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>
        {label}
        {optional && <span className="muted"> (optional)</span>}
      </label>
      <textarea
        {...rest}
        id={id}
        name={name}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        className="input textarea"
        aria-invalid={error || over ? true : undefined}
        aria-describedby={describedBy(error ? `${id}-error` : null, hint ? `${id}-hint` : null, maxChars !== undefined ? `${id}-count` : null)}
        data-field={name}
      />
      {error && <FieldError id={`${id}-error`} name={name} label={label} error={error} />}
      <div className="field-foot">
        {hint && (
          <p id={`${id}-hint`} className="field-hint">
            {hint}
          </p>
        )}
        {maxChars !== undefined && (
          <p id={`${id}-count`} className={`field-count${over ? ' field-count-over' : ''}`}>
            {value.length} / {maxChars}
            <span className="visually-hidden"> characters</span>
          </p>
        )}
      </div>
    </div>
  );
}

export interface SelectFieldProps
  extends Omit<SelectHTMLAttributes<HTMLSelectElement>, 'name' | 'value' | 'onChange' | 'id'>,
    FieldBinding {
  label: string;
  hint?: ReactNode;
  options: readonly { value: string; label: string }[];
}

export function SelectField({ label, hint, options, name, value, error, onChange, ...rest }: SelectFieldProps) {
  const id = useId();
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <select
        {...rest}
        id={id}
        name={name}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        className="input"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(error ? `${id}-error` : null, hint ? `${id}-hint` : null)}
        data-field={name}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {error && <FieldError id={`${id}-error`} name={name} label={label} error={error} />}
      {hint && (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      )}
    </div>
  );
}

/** A checkbox bound to a 'true' / 'false' string value, as useForm keeps every value as a string. */
export function CheckboxField({ label, hint, name, value, error, onChange }: FieldBinding & { label: string; hint?: ReactNode }) {
  const id = useId();
  return (
    <div className={`field field-checkbox${error ? ' field-invalid' : ''}`}>
      <div className="checkbox-row">
        <input
          id={id}
          type="checkbox"
          name={name}
          checked={value === 'true'}
          onChange={(e) => onChange(e.target.checked ? 'true' : 'false')}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy(error ? `${id}-error` : null, hint ? `${id}-hint` : null)}
          data-field={name}
        />
        <label htmlFor={id}>{label}</label>
      </div>
      {error && <FieldError id={`${id}-error`} name={name} label={label} error={error} />}
      {hint && (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      )}
    </div>
  );
}
