from glasspane.cli.main import main

main()
