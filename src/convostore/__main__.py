from convostore.cli import app

app(prog_name="convostore")
