from rempart.cli import main

main()
