import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
// Shared styles first: each section's stylesheet (imported by its pages) may refine them.
import './styles.css';
import { App } from './app';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
