import { useChatClient } from '@chat/react';
import { type FormEvent, useId, useState } from 'react';
import { describeError } from './format.js';

type Mode = 'login' | 'signup';

/** Email sign-in: the reference server's development login (no password). */
export function Login({ notice }: { notice: string | null }) {
  const client = useChatClient();
  const [mode, setMode] = useState<Mode>('login');
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === 'signup') await client.signUp(name.trim() ? { email, name: name.trim() } : { email });
      else await client.login({ email });
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="login-page">
      <form className="card login" onSubmit={submit} aria-labelledby={`${id}-title`}>
        <div className="brand" aria-hidden="true">
          <span className="brand-mark">c</span> chat demo
        </div>
        <h1 id={`${id}-title`}>{mode === 'login' ? 'Log in' : 'Create an account'}</h1>
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
      </form>
    </div>
  );
}
