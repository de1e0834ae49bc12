from services.arbitration.workbench.app import main

main()
