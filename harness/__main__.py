from vmcompat.cli import run

run()
