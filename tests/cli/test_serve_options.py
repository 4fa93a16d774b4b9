"""`impex serve` refuses an address it cannot listen on before it creates anything."""

import subprocess

from support import IMPEX


def test_serve_on_a_port_beyond_65535_is_refused_before_it_creates_anything(impex_env, data_dir):
    done = subprocess.run(
        [*IMPEX, "serve", "--port", "99999"], capture_output=True, text=True, env=impex_env, timeout=60
    )
    assert done.returncode == 2
    assert "error: setting port (IMPEX_PORT): 99999 is more than 65535, its largest value" in done.stderr
    assert "Traceback" not in done.stderr and "admin" not in done.stdout
    assert not (data_dir / "impex.db").exists()
