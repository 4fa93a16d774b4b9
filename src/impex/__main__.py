from impex.cli.entry import main

main()
