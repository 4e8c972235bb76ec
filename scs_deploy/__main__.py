from scs_deploy.cli import main

main()
