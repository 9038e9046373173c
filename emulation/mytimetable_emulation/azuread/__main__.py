from .provider import main

main()
