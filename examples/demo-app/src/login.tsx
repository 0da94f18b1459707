import { isChatError } from '@chat/sdk';
import { useChatClient } from '@chat/react';
import { type FormEvent, useId, useState } from 'react';
import { describeError } from './format.js';
import { SAMPLE_PEOPLE } from './samples.js';

type Mode = 'login' | 'signup';

interface LoginProps {
  notice?: string | null;
  /**
   * Who this tab shows now, when the form switches it to another person (a panel over the
   * chat): signing in then switches this tab only; other tabs keep their person.
   */
  current?: { name: string; email: string };
  onCancel?(): void;
  onSignedIn?(): void;
}

/** Email sign-in: the reference server's development login (no password). Also the "Switch person" panel. */
export function Login({ notice = null, current, onCancel, onSignedIn }: LoginProps) {
  const client = useChatClient();
  const [mode, setMode] = useState<Mode>('login');
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();

  async function run(signIn: () => Promise<unknown>, sample?: string) {
    setBusy(true);
    setError(null);
    try {
      await signIn();
      setBusy(false);
      onSignedIn?.();
    } catch (failure) {
      setBusy(false);
      setError(
        sample && isChatError(failure) && failure.code === 'NOT_FOUND'
          ? `${sample} has no account on this server: it has no sample people (they are made only on a fresh database, and not with CHAT_SAMPLE=off). Sign up instead.`
          : describeError(failure),
      );
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    void run(() => (mode === 'signup' ? client.signUp(name.trim() ? { email, name: name.trim() } : { email }) : client.login({ email })));
  }

  const samples = SAMPLE_PEOPLE.filter((person) => person.email !== current?.email);
  const form = (
    <form className={`card login${current ? ' login-switch' : ''}`} onSubmit={submit} aria-labelledby={`${id}-title`}>
      <div className="brand" aria-hidden="true">
        <span className="brand-mark">c</span> chat demo
      </div>
      <h1 id={`${id}-title`}>{mode === 'login' ? 'Log in' : 'Create an account'}</h1>
      {current && (
        <p className="notice">
          This switches <strong>this tab</strong> from {current.name} to another person. Other tabs keep theirs, and {current.name} stays
          signed in on this browser: switch back the same way.
        </p>
      )}
      <p className="muted">
        {mode === 'login' ? 'Use the email you signed up with. No password on this development server.' : 'An email and a display name are all it takes.'}
      </p>
      {notice && <p className="notice">{notice}</p>}
      <label htmlFor={`${id}-email`}>Email</label>
      <input
        id={`${id}-email`}
        type="email"
        autoComplete="email"
        required
        autoFocus
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        placeholder="ada@example.com"
      />
      {mode === 'signup' && (
        <>
          <label htmlFor={`${id}-name`}>Display name</label>
          <input id={`${id}-name`} autoComplete="name" maxLength={80} value={name} onChange={(e) => setName(e.target.value)} placeholder="Ada Lovelace" />
        </>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="primary wide" disabled={busy}>
        {busy ? 'One moment…' : mode === 'login' ? 'Log in' : 'Sign up'}
      </button>
      <p className="switch">
        {mode === 'login' ? 'New here?' : 'Already have an account?'}{' '}
        <button
          type="button"
          className="link"
          onClick={() => {
            setMode(mode === 'login' ? 'signup' : 'login');
            setError(null);
          }}
        >
          {mode === 'login' ? 'Sign up' : 'Log in'}
        </button>
      </p>
      {mode === 'login' && samples.length > 0 && (
        <section className="samples" aria-label="Sample people">
          <p className="muted">
            Sample people, there when the server started on a fresh database with its sample data (the default; not with CHAT_SAMPLE=off):
          </p>
          <div className="sample-buttons">
            {samples.map((person) => (
              <button key={person.email} type="button" className="ghost" disabled={busy} onClick={() => void run(() => client.login({ email: person.email }), person.email)}>
                Sign in as {person.name} (sample)
              </button>
            ))}
          </div>
        </section>
      )}
      {onCancel && (
        <button type="button" className="ghost" onClick={onCancel}>
          Cancel
        </button>
      )}
    </form>
  );
  if (!current) return <div className="login-page">{form}</div>;
  return (
    <div
      className="switch-panel"
      role="dialog"
      aria-modal="true"
      aria-label="Switch person"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onCancel?.();
      }}
    >
      {form}
    </div>
  );
}
