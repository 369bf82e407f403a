from vmcompat.cli import main

main()
