/**
 * The landing screen of the studio. The arrangement view lands here in its own issue; until then it says what the
 * product is and where to look.
 */
import { Link } from 'react-router';

export function HomePage() {
  return (
    <section className="page" aria-labelledby="home-title">
      <h1 id="home-title">DAWG AI</h1>
      <p className="lede">
        Create music with an AI producer: prompt songs and loops, arrange and mix them in the browser.
      </p>
      <div className="card">
        <h2>Studio</h2>
        <p>The multitrack studio opens here. Projects, generation and mixing are on their way.</p>
        <p>
          Is everything up? See the <Link to="/status">system status</Link>.
        </p>
      </div>
    </section>
  );
}
