from impex.cli.main import app

app(prog_name="impex")
